/* A car's photos on its page: upload by drop or file button, reorder by dragging (or the
   arrow buttons), choose the main photo, caption, delete. Talks JSON to CarPhotosView with
   the page's CSRF token. Served by the app (CSP: script-src 'self'); no inline handlers. */
(function () {
  "use strict";
  var root = document.getElementById("car-photos");
  if (!root) {
    return;
  }
  var url = root.getAttribute("data-url");
  var csrf = root.getAttribute("data-csrf");
  var gallery = document.getElementById("car-photos-gallery");
  var input = document.getElementById("car-photos-input");
  var drop = document.getElementById("car-photos-drop");
  var status = document.getElementById("car-photos-status");
  var errors = document.getElementById("car-photos-errors");
  var photos = [];
  var dragged = null;

  function msg(name) {
    return root.getAttribute("data-msg-" + name) || "";
  }

  function say(text) {
    status.textContent = text;
  }

  function showErrors(body) {
    errors.textContent = "";
    var found = body && body.message;
    var lines = [];
    if (found && typeof found === "object") {
      Object.keys(found).forEach(function (key) {
        [].concat(found[key]).forEach(function (line) { lines.push(String(line)); });
      });
    } else {
      lines.push(found ? String(found) : msg("failed"));
    }
    lines.forEach(function (line) {
      var item = document.createElement("li");
      item.textContent = line;
      errors.appendChild(item);
    });
    say("");
  }

  function send(method, path, body, isForm) {
    return new Promise(function (resolve) {
      var xhr = new XMLHttpRequest();
      xhr.open(method, path);
      xhr.setRequestHeader("X-CSRFToken", csrf);
      xhr.setRequestHeader("Accept", "application/json");
      if (body && !isForm) {
        xhr.setRequestHeader("Content-Type", "application/json");
        body = JSON.stringify(body);
      }
      xhr.onload = function () {
        var parsed = null;
        try { parsed = JSON.parse(xhr.responseText); } catch (e) { parsed = null; }
        if (xhr.status >= 200 && xhr.status < 300 && parsed) {
          errors.textContent = "";
          photos = parsed.result || [];
          render();
          resolve(true);
        } else {
          showErrors(parsed);
          resolve(false);
        }
      };
      xhr.onerror = function () { showErrors(null); resolve(false); };
      xhr.send(body || null);
    });
  }

  function button(label, className, onClick) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "btn btn-default btn-xs " + className;
    b.textContent = label;
    b.addEventListener("click", onClick);
    return b;
  }

  function moveTo(photo, index) {
    var ids = photos.map(function (p) { return p.id; }).filter(function (id) { return id !== photo.id; });
    ids.splice(Math.max(0, Math.min(index, ids.length)), 0, photo.id);
    return send("POST", url + "order", { order: ids }).then(function (ok) { if (ok) { say(msg("saved")); } });
  }

  function card(photo, index) {
    var item = document.createElement("li");
    item.className = "car-photo" + (photo.main ? " car-photo-main" : "");
    item.setAttribute("data-photo-id", photo.id);
    item.draggable = true;
    var link = document.createElement("a");
    link.href = photo.large_url;
    link.target = "_blank";
    link.rel = "noopener";
    var img = document.createElement("img");
    img.src = photo.thumb_url;
    img.alt = photo.caption || "";
    img.className = "car-photo-thumb";
    link.appendChild(img);
    item.appendChild(link);
    if (photo.main) {
      var badge = document.createElement("span");
      badge.className = "label label-primary car-photo-badge";
      badge.textContent = msg("main");
      item.appendChild(badge);
    }
    var caption = document.createElement("input");
    caption.type = "text";
    caption.maxLength = 200;
    caption.className = "form-control input-sm car-photo-caption";
    caption.value = photo.caption;
    caption.placeholder = msg("caption");
    caption.setAttribute("aria-label", msg("caption"));
    item.appendChild(caption);
    var tools = document.createElement("div");
    tools.className = "car-photo-tools";
    tools.appendChild(button(msg("save"), "car-photo-save", function () {
      send("POST", url + photo.id, { caption: caption.value }).then(function (ok) { if (ok) { say(msg("saved")); } });
    }));
    if (!photo.main) {
      tools.appendChild(button(msg("make-main"), "car-photo-make-main", function () {
        send("POST", url + photo.id, { main: true }).then(function (ok) { if (ok) { say(msg("saved")); } });
      }));
    }
    if (index > 0) {
      tools.appendChild(button("\u2190", "car-photo-earlier", function () { moveTo(photo, index - 1); }));
      tools.lastChild.title = msg("earlier");
      tools.lastChild.setAttribute("aria-label", msg("earlier"));
    }
    if (index < photos.length - 1) {
      tools.appendChild(button("\u2192", "car-photo-later", function () { moveTo(photo, index + 1); }));
      tools.lastChild.title = msg("later");
      tools.lastChild.setAttribute("aria-label", msg("later"));
    }
    tools.appendChild(button(msg("delete"), "btn-danger car-photo-delete", function () {
      if (window.confirm(msg("confirm-delete"))) {
        send("POST", url + photo.id + "/delete").then(function (ok) { if (ok) { say(msg("saved")); } });
      }
    }));
    item.appendChild(tools);
    item.addEventListener("dragstart", function (event) {
      dragged = photo;
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", String(photo.id));
    });
    item.addEventListener("dragover", function (event) {
      if (dragged) { event.preventDefault(); }
    });
    item.addEventListener("drop", function (event) {
      if (!dragged) { return; }
      event.preventDefault();
      event.stopPropagation();
      var from = dragged;
      dragged = null;
      if (from.id !== photo.id) { moveTo(from, index); }
    });
    item.addEventListener("dragend", function () { dragged = null; });
    return item;
  }

  function render() {
    gallery.textContent = "";
    if (!photos.length) {
      var empty = document.createElement("li");
      empty.className = "car-photos-empty text-muted";
      empty.textContent = msg("none");
      gallery.appendChild(empty);
      return;
    }
    photos.forEach(function (photo, index) { gallery.appendChild(card(photo, index)); });
  }

  function upload(files) {
    if (!files || !files.length) {
      return;
    }
    var form = new FormData();
    for (var i = 0; i < files.length; i += 1) {
      form.append("file", files[i], files[i].name);
    }
    say(msg("uploading"));
    send("POST", url, form, true).then(function (ok) {
      if (ok) { say(msg("saved")); }
      input.value = "";
    });
  }

  input.addEventListener("change", function () { upload(input.files); });
  ["dragenter", "dragover"].forEach(function (name) {
    drop.addEventListener(name, function (event) {
      if (dragged) { return; }
      event.preventDefault();
      drop.classList.add("car-photos-drop-active");
    });
  });
  ["dragleave", "drop"].forEach(function (name) {
    drop.addEventListener(name, function () { drop.classList.remove("car-photos-drop-active"); });
  });
  drop.addEventListener("drop", function (event) {
    if (dragged) { return; }
    event.preventDefault();
    upload(event.dataTransfer.files);
  });

  var first = new XMLHttpRequest();
  first.open("GET", url);
  first.setRequestHeader("Accept", "application/json");
  first.onload = function () {
    try { photos = JSON.parse(first.responseText).result || []; } catch (e) { photos = []; }
    render();
  };
  first.send();
}());
