from peercall.server.front_door import is_signaling_request
from peercall.server.proxies import TrustedProxies


def test_forwarded_for_is_believed_only_from_a_trusted_proxy():
    proxies = TrustedProxies(["127.0.0.1", "10.0.0.0/8"])
    assert proxies.client_of("127.0.0.1", ["198.51.100.7"]) == "198.51.100.7"
    assert proxies.client_of("203.0.113.9", ["198.51.100.7"]) == "203.0.113.9"
    assert proxies.client_of("127.0.0.1", []) == "127.0.0.1"


def test_the_client_is_the_rightmost_hop_that_is_not_a_trusted_proxy():
    proxies = TrustedProxies(["127.0.0.1", "10.0.0.0/8"])
    # The client may write anything leftmost; proxies append what they saw.
    chain = ["6.6.6.6, 198.51.100.7", "10.1.2.3"]
    assert proxies.client_of("127.0.0.1", chain) == "198.51.100.7"
    # Only trusted hops: the first one is as far as anybody can tell.
    assert proxies.client_of("127.0.0.1", ["10.0.0.1, 10.0.0.2"]) == "10.0.0.1"


def test_no_trusted_proxy_means_the_socket_address_counts():
    proxies = TrustedProxies([])
    assert not proxies
    assert proxies.client_of("127.0.0.1", ["198.51.100.7"]) == "127.0.0.1"
    everyone = TrustedProxies(["*"])
    assert everyone.client_of("203.0.113.9", ["198.51.100.7"]) == "198.51.100.7"


def test_ipv6_proxies_and_networks():
    proxies = TrustedProxies(["::1", "fd00::/8"])
    assert proxies.client_of("::1", ["2001:db8::5, fd00::1"]) == "2001:db8::5"
    assert not proxies.trusts("not-an-address")


def test_only_get_ws_goes_to_the_signaling_socket():
    assert is_signaling_request(b"GET /ws HTTP/1.1")
    assert is_signaling_request(b"GET /ws?v=1 HTTP/1.1")
    assert not is_signaling_request(b"POST /ws HTTP/1.1")
    assert not is_signaling_request(b"GET /wss HTTP/1.1")
    assert not is_signaling_request(b"GET / HTTP/1.1")
    assert not is_signaling_request(b"GET /static/ws HTTP/1.1")
    assert not is_signaling_request(b"")
