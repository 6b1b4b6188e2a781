/* Pickers on large tables search as you type: a <select data-picker-url> becomes a select2
   that asks the view's picker endpoint (tenant-scoped JSON) for the rows matching the
   typed words. Served by the app; loaded by forecourt/picker_form_*.html. */
(function () {
  "use strict";
  var $ = window.jQuery;
  function text(el, name) {
    return el.getAttribute(name) || "";
  }
  function init() {
    document.querySelectorAll("select[data-picker-url]").forEach(function (el) {
      var $el = $(el);
      if ($el.data("select2")) {
        $el.select2("destroy");
      }
      $el.select2({
        theme: "bootstrap",
        allowClear: true,
        placeholder: text(el, "data-placeholder"),
        minimumInputLength: 1,
        language: {
          inputTooShort: function () { return text(el, "data-picker-too-short"); },
          searching: function () { return text(el, "data-picker-searching"); },
          noResults: function () { return text(el, "data-picker-none"); }
        },
        ajax: {
          url: text(el, "data-picker-url"),
          dataType: "json",
          delay: 250,
          data: function (params) { return { q: params.term || "" }; },
          processResults: function (data) { return { results: data.results }; }
        }
      });
    });
  }
  $(init);
})();
