import time, pytest, requests
from profiles.services import creator_signup
pytestmark = pytest.mark.django_db(transaction=True)
def test_probe(live_server, make_creation):
    u = creator_signup(username="p", password="p-password-123")
    c = make_creation(owner=u, status="draft")
    s = requests.Session(); s.headers["Connection"] = "close"
    for url in ["/healthz", "/api/schema", f"/api/creations/{c.id}"]:
        t=time.monotonic()
        for _ in range(20): s.get(live_server.url+url)
        print(url, (time.monotonic()-t)/20*1000, "ms")
    base = live_server.url.replace("localhost","127.0.0.1")
    t=time.monotonic()
    for _ in range(20): s.get(base+"/healthz")
    print("127 healthz", (time.monotonic()-t)/20*1000, "ms")
