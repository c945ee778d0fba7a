"""The webhook URL rule (README "Webhook URLs"): what may be a webhook URL, and why not."""

from __future__ import annotations

import pytest

from mock_puresms.domain.urls import is_webhook_url, webhook_url_problem


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9000/receipts",  # loopback stays allowed: tests and local receivers
        "http://127.0.0.2/",
        "http://localhost:8080/hooks?x=1#frag",
        "https://example.test/puresms/receipts",
        "http://[::1]:9000/r",
        "http://[::ffff:127.0.0.1]/r",
        "http://10.1.2.3/r",
        "http://192.168.0.10:80/r",
        "http://my_host.internal/r",
        "http://bücher.example/r",
        "HTTP://EXAMPLE.TEST/",
        "http://127.0.0.1./r",
        "http://host.test:65535/",
    ],
)
def test_allowed(url: str) -> None:
    assert webhook_url_problem(url) is None
    assert is_webhook_url(url)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://x.test/r", "absolute http or https"),
        ("/relative", "absolute http or https"),
        ("http://", "absolute http or https"),
        ("http://h.test:99999/", "absolute http or https"),
        ("http://h.test:0/", "port from 1 to 65535"),
        ("http://user:pw@h.test/", "user name or password"),
        ("http://user@h.test/", "user name or password"),
        ("http://h.test/a b", "spaces or control characters"),
        ("http://h.test/\x00", "spaces or control characters"),
        # IPv4 forms that clients read differently (or not at all): never deliverable.
        ("http://127.1:8080/", "four decimal numbers"),
        ("http://2852039166/", "four decimal numbers"),
        ("http://0x7f.0.0.1/", "four decimal numbers"),
        ("http://0x7f000001/", "four decimal numbers"),
        ("http://010.0.0.1/", "four decimal numbers"),
        ("http://1.2.3.4.5/", "four decimal numbers"),
        ("http://256.1.1.1/", "four decimal numbers"),
        ("http://example.123/", "four decimal numbers"),
        ("http://0.0.0.0:8080/", "unspecified"),
        ("http://[::]:8080/", "unspecified"),
        ("http://255.255.255.255/", "broadcast or multicast"),
        ("http://224.0.0.1/", "broadcast or multicast"),
        ("http://[ff02::1]/", "broadcast or multicast"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://[fe80::1]/", "link-local"),
        ("http://[::ffff:169.254.169.254]/", "link-local"),
        ("http://[fe80::1%25eth0]/", "zone id"),
        ("http://[not-v6]/", "absolute http or https"),
        ("http://a..b/", "valid host name"),
        ("http://" + "a" * 64 + ".test/", "valid host name"),
        ("http://exa*mple.test/", "valid host name"),
        ("http://a\u200d.test/", "valid host name"),
        ("http://exämple..com/hook", "valid host name"),
        ("http://☃.test/", "valid host name"),
    ],
)
def test_refused_with_the_reason(url: str, why: str) -> None:
    problem = webhook_url_problem(url)
    assert problem is not None and why in problem
    assert not is_webhook_url(url)
