"""Live credentials: read from the environment or the nearest .env, and never shown in full."""

import pytest

from smskit.settings import Settings, load_settings, mask, scrub

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "f" * 32  # made up


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A folder with a .env, and the current directory two levels below it."""
    (tmp_path / ".env").write_text(
        f"TWILIO_ACCOUNT_SID={SID}\nTWILIO_AUTH_TOKEN={TOKEN}\n"
        "TWILIO_PHONE_NUMBER=+15551234567\nNGROK_AUTHTOKEN=from-file\n"
    )
    below = tmp_path / "notebooks" / "deeper"
    below.mkdir(parents=True)
    monkeypatch.chdir(below)
    return tmp_path


def test_the_nearest_env_file_upwards_fills_what_the_environment_lacks(project):
    settings = load_settings({"NGROK_AUTHTOKEN": "from-environment", "TWILIO_AUTH_TOKEN": ""})
    assert settings.env_file == project / ".env"
    assert settings.ngrok_authtoken == "from-environment"  # a real variable wins
    assert settings.twilio_auth_token == TOKEN  # an empty one counts as unset
    assert settings.has_twilio and settings.has_ngrok


def test_without_env_file_or_variables_everything_is_missing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings({})
    assert settings == Settings() and not settings.has_ngrok and not settings.has_twilio


def test_repr_and_str_mask_every_secret(project):
    settings = load_settings({})
    for text in (repr(settings), str(settings), f"{settings}"):
        assert SID not in text and TOKEN not in text and "from-file" not in text
        assert "AC…cdef" in text and "••••" in text and "+15551234567" in text


@pytest.mark.parametrize(
    "secret, shown",
    [(SID, "AC…cdef"), (TOKEN, "••••"), ("short", "••••"), ("", "(not set)"), (None, "(not set)")],
)
def test_mask(secret, shown):
    assert mask(secret) == shown


def test_scrub_replaces_each_secret_wherever_it_appears():
    text = f"sid={SID} token={TOKEN} again {TOKEN}"
    assert scrub(text, SID, TOKEN, None) == "sid=AC…cdef token=*** again ••••"  # token= too


def test_a_missing_value_is_asked_for_where_it_goes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    without = load_settings(environ={})
    assert without.ngrok_problem.startswith("No NGROK_AUTHTOKEN: copy .env.example to .env and")
    (tmp_path / ".env").write_text("TWILIO_ACCOUNT_SID=AC" + "0" * 32 + "\n")
    with_env = load_settings(environ={})
    assert with_env.ngrok_problem.startswith(f"No NGROK_AUTHTOKEN: add it to {tmp_path / '.env'},")
    assert with_env.twilio_problem.startswith(
        f"No TWILIO_AUTH_TOKEN, TWILIO_PHONE_NUMBER: add them to {tmp_path / '.env'} from"
    )
    assert ".env.example" not in with_env.ngrok_problem + with_env.twilio_problem
