def test_x(app, db, login):
    app.config["PROPAGATE_EXCEPTIONS"] = True
    try:
        b = login("north-motors-admin")
        r = b.get("/users/userinfo/")
        print(r.status_code)
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = None
