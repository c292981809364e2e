"""The `doorstep staff` commands as an operator meets them: accounts, hashes, tokens, and
what disabling an account does to its sessions."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from console_support import (
    PASSWORD,
    add_staff,
    bearer,
    fresh_http,
    login,
    post_login,
)

from bot.cli import cli
from bot.store import key_for

pytestmark = pytest.mark.timeout(120)


def doorstep(system, *args: str, input: str | None = None):  # noqa: A002, ANN001, ANN201
    """Run ``doorstep ARGS`` in-process against the system's Redis."""
    env = {"REDIS_URL": system.runtime.redis_url,
           "DOORSTEP_DATA_DIR": str(system.settings.data_dir),
           "EVENTS_WEBHOOK_SECRET": system.settings.events_webhook_secret,
           "NLU_MODEL_DIR": str(system.settings.nlu_model_dir)}
    return CliRunner().invoke(cli, list(args), env=env, input=input)


# -- doorstep staff ------------------------------------------------------------------
def test_staff_add_with_password_stdin_stores_an_argon2id_hash(make_system):
    system = make_system()
    done = doorstep(system, "staff", "add", "Sam.Lee@Example.com", "--role", "agent",
                    "--password-stdin", input="a long enough secret\n")
    assert done.exit_code == 0, done.output
    assert "sam.lee@example.com" in done.output and "Sam" in done.output
    stored = system.runtime.redis.hget(key_for("staff", "sam.lee@example.com"), "password_hash")
    assert stored.decode().startswith("$argon2id$")
    assert b"a long enough secret" not in b"".join(
        v for v in system.runtime.redis.hgetall(key_for("staff", "sam.lee@example.com")).values())
    member = system.runtime.staff.verify("SAM.LEE@example.com ", "a long enough secret")
    assert member is not None and member.name == "Sam" and member.role == "agent"


def test_staff_add_prompts_twice_for_the_password(make_system):
    system = make_system()
    done = doorstep(system, "staff", "add", "ana@example.com", "--role", "supervisor",
                    "--name", "Ana María", input="prompted secret 1\nprompted secret 1\n")
    assert done.exit_code == 0, done.output
    assert "prompted secret 1" not in done.output  # hidden input is not echoed
    assert done.output.count("Password") >= 1 and "Repeat" in done.output
    member = system.runtime.staff.verify("ana@example.com", "prompted secret 1")
    assert member is not None and member.name == "Ana María" and member.role == "supervisor"

    mismatch = doorstep(system, "staff", "add", "bo@example.com", "--role", "agent",
                        input="first secret 12\nother secret 12\n")
    assert mismatch.exit_code == 1
    assert "do not match" in mismatch.output
    assert system.runtime.staff.get("bo@example.com") is None


@pytest.mark.parametrize(("args", "password", "message"), [
    (["--role", "agent"], "short", "at least 10 characters"),
    (["--role", "admin"], "long enough password", "role must be one of agent, supervisor"),
    (["--role", "agent"], "", "at least 10 characters"),
])
def test_staff_add_refuses_bad_values_and_stores_nothing(make_system, args, password, message):
    system = make_system()
    done = doorstep(system, "staff", "add", "sam@example.com", *args, "--password-stdin",
                    input=password + "\n")
    assert done.exit_code == 1
    assert message in done.output
    assert system.runtime.redis.keys(key_for("staff", "*")) == []
    bad_email = doorstep(system, "staff", "add", "not-an-email", "--role", "agent",
                         "--password-stdin", input="long enough password\n")
    assert bad_email.exit_code == 1 and "not an email address" in bad_email.output


def test_staff_add_twice_is_refused(make_system):
    system = make_system()
    add_staff(system, "sam@example.com")
    done = doorstep(system, "staff", "add", "SAM@example.com", "--role", "supervisor",
                    "--password-stdin", input="another password\n")
    assert done.exit_code == 1 and "already has an account" in done.output
    assert system.runtime.staff.get("sam@example.com").role == "agent"


def test_staff_list_shows_accounts_without_secrets(make_system):
    system = make_system()
    assert "no staff accounts yet" in doorstep(system, "staff", "list").output
    add_staff(system, "zoe@example.com", "supervisor")
    add_staff(system, "al.b@example.com", name="Albert")
    doorstep(system, "staff", "disable", "zoe@example.com")
    done = doorstep(system, "staff", "list")
    assert done.exit_code == 0, done.output
    lines = done.output.strip().splitlines()
    assert lines[0].split() == ["EMAIL", "NAME", "ROLE", "STATE"]
    assert lines[1].split() == ["al.b@example.com", "Albert", "agent", "enabled"]
    assert lines[2].split() == ["zoe@example.com", "Zoe", "supervisor", "disabled"]
    assert "argon2" not in done.output


def test_staff_token_prints_only_a_token_that_works_and_replaces_the_last(make_system):
    system = make_system()
    add_staff(system, "sam@example.com")
    first = doorstep(system, "staff", "token", "sam@example.com")
    assert first.exit_code == 0, first.output
    token = first.stdout.strip()
    assert first.stdout == token + "\n" and token.startswith("dst_") and len(token) > 40
    me = bearer(system, token, "GET", "/api/me")
    assert me.status_code == 200 and me.json()["email"] == "sam@example.com"
    assert system.runtime.redis.keys(key_for("stafftoken", "*")) != []
    assert token.encode() not in b"".join(system.runtime.redis.keys("*"))

    second = doorstep(system, "staff", "token", "sam@example.com").stdout.strip()
    assert bearer(system, token, "GET", "/api/me").status_code == 401
    assert bearer(system, second, "GET", "/api/me").status_code == 200
    unknown = doorstep(system, "staff", "token", "nobody@example.com")
    assert unknown.exit_code == 1 and "no staff account" in unknown.output


def test_disabling_an_account_ends_its_session_and_token_at_once(make_system):
    system = make_system()
    add_staff(system, "sam@example.com")
    client = login(system, "sam@example.com", PASSWORD)
    other_browser = login(system, "sam@example.com", PASSWORD)
    token = system.runtime.staff.issue_token("sam@example.com")
    assert client.get("/api/me").status_code == 200
    assert bearer(system, token, "GET", "/api/me").status_code == 200

    done = doorstep(system, "staff", "disable", "sam@example.com")
    assert done.exit_code == 0, done.output
    assert "2 sessions ended" in done.output
    assert client.get("/api/me").status_code == 401
    assert other_browser.get("/api/me").status_code == 401
    assert bearer(system, token, "GET", "/api/me").status_code == 401
    again = post_login(fresh_http(), system, "sam@example.com", PASSWORD)
    assert again.status_code == 401 and "Wrong email or password" in again.text
    assert doorstep(system, "staff", "token", "sam@example.com").exit_code == 1


def test_a_disabled_account_is_refused_even_if_its_session_survived(make_system):
    """Disabling through the directory alone (no session revocation) still locks out."""
    system = make_system()
    add_staff(system, "sam@example.com")
    client = login(system, "sam@example.com", PASSWORD)
    system.runtime.staff.disable("sam@example.com")
    assert client.get("/api/me").status_code == 401
