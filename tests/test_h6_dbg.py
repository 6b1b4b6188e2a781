import re
from tests.test_languages import signed_in, preference
def test_dbg(app, db):
    with preference(db, "north-motors-staff", "uk"):
        b = signed_in(app, "north-motors-staff", accept_language="de")
        r = b.get("/carmodelview/list/")
        print(r.status_code, r.headers.get("Location"))
        t = re.sub(r"<[^>]+>", " ", r.get_data(as_text=True)); print(re.sub(r"\s+"," ",t)[:1500])
