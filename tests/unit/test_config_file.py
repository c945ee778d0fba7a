"""The config file reader: every mistake with its line and key path, the API's URL rule."""

from __future__ import annotations

import pytest

from mock_puresms.config_file import ConfigError, parse_config


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source_name="mock.yaml")
    return str(caught.value).splitlines()


def test_a_valid_file_is_read() -> None:
    config = parse_config(
        "accounts:\n"
        "  - name: acme\n"
        "    apiKeys: [k]\n"
        "    webhooks: {deliveryReceiptUrl: 'https://app.test/receipts', secret: s}\n"
        "webhooks: {timeout: 2s}\n"
    )
    assert config.accounts[0].webhooks.delivery_receipt_url == "https://app.test/receipts"
    assert config.webhooks.timeout_ms == 2000


def test_an_empty_file_is_the_defaults() -> None:
    assert parse_config("").accounts == ()


def test_a_webhook_url_follows_the_api_rule_with_line_and_path() -> None:
    text = (
        "accounts:\n"
        "  - name: acme\n"
        "    apiKeys: [k]\n"
        "    webhooks:\n"
        "      replyUrl: https://ok.test/replies\n"
        "      deliveryReceiptUrl: not a url\n"
    )
    assert problems(text) == [
        "mock.yaml:6: accounts[0].webhooks.deliveryReceiptUrl: "
        "must be an absolute http or https URL (or be left out)"
    ]


@pytest.mark.parametrize("url", ["ftp://x.test/r", "/relative", "http://", "http://h.test:99999/"])
def test_urls_the_api_refuses_are_refused(url: str) -> None:
    text = f"accounts:\n  - name: a\n    webhooks: {{replyUrl: '{url}'}}\n"
    assert problems(text) == [
        "mock.yaml:3: accounts[0].webhooks.replyUrl: "
        "must be an absolute http or https URL (or be left out)"
    ]


def test_every_mistake_is_reported_in_line_order() -> None:
    text = (
        "accounts:\n"  # 1
        "  - name: acme\n"  # 2
        "    credits: -5\n"  # 3
        "    colour: blue\n"  # 4
        "  - apiKeys: [k2]\n"  # 5
        "webhooks:\n"  # 6
        "  timeout: soon\n"  # 7
        "  maxBatch: many\n"  # 8
    )
    found = problems(text)
    assert [line.split(":")[1] for line in found] == ["3", "4", "5", "7", "8"], found
    assert found[0] == "mock.yaml:3: accounts[0].credits: must be 0 or more"
    assert found[1].startswith("mock.yaml:4: accounts[0].colour: unknown key; allowed: name,")
    assert found[2] == "mock.yaml:5: accounts[1].name: missing: this key is required"
    assert found[3].startswith("mock.yaml:7: webhooks.timeout: 'soon' is not a duration")
    assert found[4] == "mock.yaml:8: webhooks.maxBatch: must be a whole number"


def test_an_unknown_top_level_key_lists_the_allowed_ones() -> None:
    assert problems("acounts: []\n") == [
        "mock.yaml:1: acounts: unknown key; allowed: accounts, webhooks, openMode, pricing"
    ]


def test_yaml_syntax_errors_name_the_file_and_line_not_unicode_string() -> None:
    found = problems("accounts:\n  - name: acme\n    apiKeys: [k\n")
    assert len(found) == 1
    assert found[0].startswith("mock.yaml:4: not valid YAML:"), found
    assert "<unicode string>" not in found[0]


def test_a_repeated_key_is_a_mistake() -> None:
    assert problems("accounts: []\nwebhooks: {}\naccounts: []\n") == [
        "mock.yaml:3: accounts: repeated (first on line 1)"
    ]


def test_shared_credentials_and_names_point_at_the_repeat() -> None:
    text = (
        "accounts:\n"
        "  - {name: a, apiKeys: [k1]}\n"
        "  - name: b\n"
        "    apiKeys: [k2, k1]\n"
        "  - {name: a}\n"
    )
    assert problems(text) == [
        "mock.yaml:4: accounts[1].apiKeys[1]: a key or client id is used by both 'a' and 'b'",
        "mock.yaml:5: accounts[2].name: account name 'a' is repeated",
    ]


def test_a_file_that_is_not_a_mapping_says_what_it_should_be() -> None:
    assert problems("- a\n- b\n") == [
        "mock.yaml:1: the file must be a mapping with the keys accounts, webhooks, openMode, "
        "pricing"
    ]


def test_an_empty_secret_is_refused_as_the_api_refuses_it() -> None:
    found = problems("accounts:\n  - name: a\n    webhooks: {secret: ''}\n")
    assert found == [
        "mock.yaml:3: accounts[0].webhooks.secret: "
        "must not be empty; leave it out for unsigned webhooks"
    ]


# The example of API.md 9.7.
CONNECT_EXAMPLE = """\
openMode:
  webhookEndpoints: [{url: "http://127.0.0.1:9000/hooks", events: [1, 2]}]
accounts:
  - name: acme
    apiKeys: ["acme-live-key"]
    webhookEndpoints:
      - {url: "https://app.test/hooks/puresms", events: [1, 2], secret: "whsec", format: observed}
pricing: {gbpPerSegment: 0.035, eurPerSegment: 0.04}
webhooks: {connectTimeout: 2s, disableAfter: 3}
"""


def test_the_connect_example_is_read() -> None:
    config = parse_config(CONNECT_EXAMPLE)
    (opening,) = config.open_mode.webhook_endpoints
    assert (opening.url, opening.events, opening.secret, opening.format) == (
        "http://127.0.0.1:9000/hooks",
        (1, 2),
        None,
        "observed",
    )
    (endpoint,) = config.accounts[0].webhook_endpoints
    assert (endpoint.secret, endpoint.format) == ("whsec", "observed")
    assert (config.pricing.gbp_per_segment, config.pricing.eur_per_segment) == (0.035, 0.04)
    assert (config.webhooks.connect_timeout_ms, config.webhooks.disable_after) == (2000, 3)


def test_connect_defaults() -> None:
    config = parse_config("")
    assert config.pricing.gbp_per_segment is None and config.pricing.eur_per_segment is None
    assert (config.webhooks.connect_timeout_ms, config.webhooks.disable_after) == (45_000, 50)


def test_endpoint_mistakes_are_named_by_line() -> None:
    text = (
        CONNECT_EXAMPLE.replace("events: [1, 2], secret", "events: [1, 3], secret")
        .replace("format: observed", "format: observd")
        .replace("eurPerSegment: 0.04", "eurPerSegment: -1")
        .replace('[{url: "http://127.0.0.1:9000/hooks"', "[{url: ftp://x")
    )
    found = problems(text)
    assert found[0].startswith("mock.yaml:2: openMode.webhookEndpoints[0].url: must be an absolute")
    assert found[1].startswith("mock.yaml:7: accounts[0].webhookEndpoints[0].events[1]: must be")
    assert found[2].startswith("mock.yaml:7: accounts[0].webhookEndpoints[0].format: must be")
    assert found[3] == "mock.yaml:8: pricing.eurPerSegment: must be 0 or more"
    assert len(found) == 4


def test_rate_limits_are_read_under_an_account_and_open_mode() -> None:
    config = parse_config(
        "openMode: {rateLimit: {requests: 10, window: 1s}}\n"
        "accounts:\n"
        "  - name: acme\n"
        "    rateLimit: {requests: 100, window: 1m}\n"
    )
    assert config.open_mode.rate_limit is not None
    assert (config.open_mode.rate_limit.requests, config.open_mode.rate_limit.window_ms) == (
        10,
        1000,
    )
    assert config.accounts[0].rate_limit is not None
    assert config.accounts[0].rate_limit.window_ms == 60_000


def test_rate_limit_mistakes_are_named_by_line_and_path() -> None:
    text = (
        "openMode:\n"
        "  rateLimit: {requests: 0, window: 1s}\n"
        "accounts:\n"
        "  - name: acme\n"
        "    rateLimit:\n"
        "      requests: 5\n"
        "      window: 0s\n"
        "  - name: other\n"
        "    rateLimit: {window: 2d, per: 1}\n"
    )
    assert problems(text) == [
        "mock.yaml:2: openMode.rateLimit.requests: must be 1 or more",
        "mock.yaml:7: accounts[0].rateLimit.window: must be a duration from 1ms to 24h, "
        "such as 1s or 1m",
        "mock.yaml:9: accounts[1].rateLimit.requests: missing: this key is required",
        "mock.yaml:9: accounts[1].rateLimit.window: must be a duration from 1ms to 24h, "
        "such as 1s or 1m",
        "mock.yaml:9: accounts[1].rateLimit.per: unknown key; allowed: requests, window",
    ]
