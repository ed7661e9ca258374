#!/usr/bin/env python3
"""Schemathesis over every operation of openapi/openapi.json against a live service, once with a
staff (admin) token and once with a case system's key.

    schemathesis_run.py --binary target/debug/maatje [--max-examples N] [--seed S]

For each role: a fresh service (as .ci/walkthrough starts one), bootstrapped with the `maatje admin`
CLI, then seeded through the API (organisations, staff, API clients, buddies in every state,
requests, exclusions, pairings in every live state, an exit interview and a dead letter), whose
ids the hooks (.ci/schemathesis_hooks.py) put into the generated cases: each operation gets
resources of its own in the state its success needs. Then `schemathesis run` with a fixed seed.

It prints, per role: operations covered, test cases generated, operations that reached a 2xx,
and failures by check. It fails (exit 1) on any server error, response-schema violation or other
check failure, except "positive data rejected" findings whose answer is a documented rule refusal
(a listed 4xx status with a problem document naming a rule): those are listed, not failed.
"""

from __future__ import annotations

import argparse
import base64
import collections
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from contract_service import ADMIN_EMAIL, ADMIN_PASSWORD, REPO, Service, free_port, spec_server_url  # noqa: E402

# The checks whose failures are always fatal, and the one whose failures may be rule refusals.
POSITIVE_REJECTED = "positive_data_acceptance"


class Api:
    """The seeding client: plain JSON over urllib against the service's real wire format."""

    def __init__(self, base: str, token: str):
        self.base, self.token = base, token

    def call(self, method: str, path: str, body=None, token: str | None = None, expect=(200, 201, 204)):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {token or self.token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                status, text = r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode()
        if status not in expect:
            raise RuntimeError(f"seeding: {method} {path} answered {status}: {text[:500]}")
        return json.loads(text) if text else None


def login(base: str) -> str:
    request = urllib.request.Request(
        base + "/auth/login",
        data=json.dumps({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as r:
        return json.loads(r.read())["token"]


def seed(service: Service, base: str, made: dict) -> dict:
    """Seeds through the API; returns the fixtures the hooks use, for both roles."""
    admin = login(base)
    api = Api(base, admin)
    org = made["organisation_id"]
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    counter = iter(range(1, 10_000))

    def buddy(state: str, capacity: int = 1) -> str:
        n = next(counter)
        b = api.call("POST", "/buddies", {
            "organisation_id": org, "name": f"Buddy Seed {n}", "email": f"seed{n}@example.org",
            "languages": ["nl"], "region": "Utrecht", "capacity": capacity,
        })["id"]
        if state == "candidate":
            return b
        api.call("POST", f"/buddies/{b}/start-screening")
        api.call("PATCH", f"/buddies/{b}", {"vog_issued_on": today, "training_completed_on": today,
                                             "agreement_signed_on": today})
        if state == "screening":
            return b
        api.call("POST", f"/buddies/{b}/activate")
        if state == "paused":
            api.call("POST", f"/buddies/{b}/pause")
        if state == "retired":
            api.call("POST", f"/buddies/{b}/retire")
        return b

    def request(ref: str | None = None) -> dict:
        n = next(counter)
        return api.call("POST", "/buddy-requests", {
            "client_ref": ref or f"SEED-{n}", "trigger": "questions", "region": "Utrecht",
            "client": {"first_name": "Client", "email": f"client{n}@example.org",
                       "preferred_channel": "email", "languages": ["nl"]},
            "consent_to_share_contact": True,
        }, token=made["case_key"])

    pool = buddy("active", capacity=10)

    def pairing(state: str) -> str:
        r = request()["id"]
        p = api.call("POST", "/pairings", {"request_id": r, "buddy_id": pool})["id"]
        if state in ("accepted", "active", "ended"):
            api.call("POST", f"/pairings/{p}/accept")
        if state in ("active", "ended"):
            api.call("POST", f"/pairings/{p}/activate")
        if state == "ended":
            api.call("POST", f"/pairings/{p}/end", {"reason": "goal_reached"})
        return p

    org_deactivate = api.call("POST", "/organisations", {"name": "Seed deactivate"})["id"]
    org_reactivate = api.call("POST", "/organisations", {"name": "Seed reactivate"})["id"]
    api.call("POST", f"/organisations/{org_reactivate}/deactivate")
    coordinator = api.call("POST", "/staff", {"email": "coordinator@example.org", "name": "Cor Coordinator",
                                              "role": "coordinator", "password": "a coordinator passphrase"})["id"]
    clients = {name: api.call("POST", "/api-clients", {"organisation_id": org, "name": name})
               for name in ("Seed keys", "Seed revoke key", "Seed revoke")}
    revoke_key = clients["Seed revoke key"]
    main_request = request("SEED-MAIN")
    excluded = buddy("active")
    exclusions = request()["id"]
    api.call("POST", f"/buddy-requests/{exclusions}/exclusions", {"buddy_id": excluded, "reason": "Knows the family"})
    erase = request("SEED-ERASE")["id"]
    api.call("POST", f"/buddy-requests/{erase}/withdraw", token=made["case_key"])
    interview = api.call("POST", "/exit-interviews", {"held_on": today, "answer": "no"},
                         token=made["case_key"])["exit_interview"]["id"]
    tokens = [login(base) for _ in range(5)]
    # A webhook endpoint of the case system, with one delivery (queued only: the worker is off
    # in these runs, so the address is never contacted).
    hook = api.call("POST", "/webhook-endpoints", {"url": "https://hooks.example.org/maatje",
                                                   "event_types": ["buddy_request.created"]},
                    token=made["case_key"])["endpoint"]["id"]
    hook_to_delete = api.call("POST", "/webhook-endpoints", {"url": "https://hooks.example.org/old",
                                                             "event_types": ["buddy_request.closed"]},
                              token=made["case_key"])["endpoint"]["id"]
    request()
    delivery = api.call("GET", f"/webhook-endpoints/{hook}/deliveries",
                        token=made["case_key"])["items"][0]["id"]
    # ... given up, as the worker leaves a delivery after a day of failures, so that a replay can
    # succeed. The worker is off here, so the seed writes that state into the service's database.
    import sqlite3
    with sqlite3.connect(service.work / "data" / "maatje.sqlite3", timeout=30) as db:
        db.execute("UPDATE webhook_deliveries SET state = 'dead' WHERE id = ?", (delivery,))

    # Client feedback: clients who chose the phone, whose pairings have ended. The case system asks
    # for one's feedback link (once: the fixture of `feedback_invitation` is another such request,
    # not yet invited); five answer through their links, so that the quarter's texts are shown
    # and one answer's text can be erased.
    def ended_by_phone() -> str:
        n = next(counter)
        r = api.call("POST", "/buddy-requests", {
            "client_ref": f"SEED-PHONE-{n}", "trigger": "questions", "region": "Utrecht",
            "client": {"first_name": "Client", "phone": "+31612345678",
                       "preferred_channel": "phone", "languages": ["nl"]},
            "consent_to_share_contact": True,
        }, token=made["case_key"])["id"]
        p = api.call("POST", "/pairings", {"request_id": r, "buddy_id": pool})["id"]
        for step in ("accept", "activate"):
            api.call("POST", f"/pairings/{p}/{step}")
        api.call("POST", f"/pairings/{p}/end", {"reason": "goal_reached"})
        return r

    to_invite = ended_by_phone()
    for _ in range(5):
        link = api.call("POST", f"/buddy-requests/{ended_by_phone()}/feedback-invitation",
                        token=made["case_key"])["link"]
        form = urllib.parse.urlencode({"score": "4", "helped": "Seed: listening", "better": "Seed: more time"})
        answered = urllib.request.Request(service.origin + "/feedback/" + link.rsplit("/feedback/", 1)[1],
                                          data=form.encode(), method="POST",
                                          headers={"Content-Type": "application/x-www-form-urlencoded"})
        with urllib.request.urlopen(answered, timeout=30) as r:
            assert r.status == 200, r.status
    utc_day = datetime.datetime.now(datetime.timezone.utc).date()
    quarter = f"{utc_day.year}-Q{(utc_day.month - 1) // 3 + 1}"
    texts = api.call("GET", f"/reports/feedback/texts?organisation_id={org}&quarter={quarter}")
    feedback_answer = texts["answers"][0]["id"]

    # A dead letter: the service sends to a closed port with one attempt, so every mail dies.
    deadline = datetime.datetime.now() + datetime.timedelta(seconds=60)
    while True:
        dead = api.call("GET", "/outbox?state=dead&limit=1")["items"]
        if dead:
            break
        if datetime.datetime.now() > deadline:
            raise RuntimeError("seeding: no dead letter in the outbox after 60 s")
        import time
        time.sleep(0.2)

    fixtures = {
        "path": {
            "get_api_client": {"id": clients["Seed keys"]["client"]["id"]},
            "create_api_key": {"id": clients["Seed keys"]["client"]["id"]},
            "revoke_api_key": {"id": revoke_key["client"]["id"], "key_id": revoke_key["key"]["key"]["id"]},
            "revoke_api_client": {"id": clients["Seed revoke"]["client"]["id"]},
            "get_buddy": {"id": pool}, "buddy_history": {"id": pool}, "export_buddy": {"id": pool},
            "update_buddy": {"id": buddy("active")},
            "start_buddy_screening": {"id": buddy("candidate")},
            "activate_buddy": {"id": buddy("screening")},
            "pause_buddy": {"id": buddy("active")},
            "resume_buddy": {"id": buddy("paused")},
            "retire_buddy": {"id": buddy("active")},
            "erase_buddy": {"id": buddy("retired")},
            "get_buddy_request": {"id": main_request["id"]},
            "buddy_request_history": {"id": main_request["id"]},
            "buddy_request_candidates": {"id": request()["id"]},
            "list_exclusions": {"id": exclusions},
            "exclude_buddy": {"id": exclusions},
            "include_buddy": {"id": exclusions, "buddy_id": excluded},
            "set_legal_hold": {"id": request()["id"]},
            "withdraw_buddy_request": {"id": request()["id"]},
            "get_exit_interview": {"id": interview}, "exit_interview_history": {"id": interview},
            "get_organisation": {"id": org}, "organisation_history": {"id": org},
            "deactivate_organisation": {"id": org_deactivate},
            "reactivate_organisation": {"id": org_reactivate},
            "retry_outbox_message": {"id": dead[0]["id"]},
            "get_pairing": {"id": pairing("ended")}, "pairing_history": {"id": pairing("ended")},
            "accept_pairing": {"id": pairing("proposed")},
            "decline_pairing": {"id": pairing("proposed")},
            "activate_pairing": {"id": pairing("accepted")},
            "end_pairing": {"id": pairing("active")},
            "get_staff": {"id": coordinator}, "update_staff": {"id": coordinator},
            "get_webhook_endpoint": {"id": hook}, "update_webhook_endpoint": {"id": hook},
            "rotate_webhook_secret": {"id": hook}, "list_webhook_deliveries": {"id": hook},
            "delete_webhook_endpoint": {"id": hook_to_delete},
            "list_webhook_attempts": {"id": hook},
            "replay_webhook_delivery": {"id": hook, "delivery_id": delivery},
            "feedback_invitation": {"id": to_invite},
            "erase_feedback_text": {"id": feedback_answer},
        },
        "query": {
            "export_client": {"organisation_id": org, "client_ref": main_request["client_ref"]},
        },
        "body": {
            "login": {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
            "create_api_client": {"organisation_id": org},
            "register_buddy": {"organisation_id": org},
            "create_buddy_request": {"organisation_id": org},
            "record_exit_interview": {"organisation_id": org},
            "propose_pairing": {"request_id": request()["id"], "buddy_id": pool},
            "exclude_buddy": {"buddy_id": buddy("active")},
            "erase_client": {"organisation_id": org, "client_ref": "SEED-ERASE"},
        },
        "auth": {"logout": tokens},
    }
    return {"admin_token": admin, "fixtures": fixtures}


# Schema-valid requests that the service may refuse: each a rule no JSON Schema can state
# (state, uniqueness, cross-field, time, role, server-issued tokens), documented in the
# operation's responses or the README. (operation regex, status, regex on "type: what", why)
RULE_REFUSALS = [
    (r".*", 400, r"^validation: cursor: not a cursor of this list$",
     "a cursor is opaque: only one the service issued for this list is valid"),
    (r"^POST .*/api-clients(/\{id\}/keys)?$", 400, r"^validation: (key_)?expires_at: must lie in the future$",
     "time: an expiry must lie in the future"),
    (r"^GET .*/reports/summary$", 400, r"^validation: (from|to): the window may span at most 5 years",
     "cross-field: the report window is at most five years"),
    (r"^GET .*/reports/summary$", 400, r"^validation: (from|to): .*(before|after)",
     "cross-field: `from` lies before `to`"),
    (r"^POST .*/exit-interviews$", 400, r"^validation: candidate: only a yes carries a candidate's personal data$",
     "cross-field: a candidate is required with `yes` and refused otherwise (NewExitInterview.candidate)"),
    (r"^POST .*/buddy-requests/\{id\}/legal-hold$", 400, r"^validation: reason: is required to place a legal hold$",
     "cross-field: placing a hold (`hold: true`) needs a reason (LegalHold.reason)"),
    (r"^POST .*/(buddies|buddy-requests|exit-interviews)$", 400,
     r"^validation: organisation_id: (is required|.*)$",
     "role: staff must name the organisation, a case system must leave it out (its key names it)"),
    (r"^POST .*/buddy-requests$", 400,
     r"^validation: (client: needs a phone number or an e-mail address|client\.preferred_channel: is (phone|email), but no [a-z -]+ is given)(; client\.preferred_channel: is (phone|email), but no [a-z -]+ is given)?$",
     "cross-field: the client's contact needs a phone or an e-mail, and the preferred channel one that is given"),
    (r"^(POST|PATCH) .*/(buddies|exit-interviews)(/\{id\})?$", 400,
     r"^validation: ([a-z_.]+: must not lie in the future(; |$))+$",
     "time: screening dates and the interview day do not lie in the future"),
    (r"^PATCH .*/(staff|buddies)/\{id\}$", 400, r"^validation: : the body names no field to change$",
     "cross-field: a PATCH names at least one field with a value (a null leaves a field as it is)"),
    (r"^POST .*/pairings/\{id\}/end$", 400, r"^validation: evaluation: needs a score or a comment",
     "cross-field: an evaluation needs a score or a comment that is not null (Evaluation)"),
    (r"^GET .*/events$", 400, r"^validation: after: not a cursor of this feed$",
     "a cursor is opaque: only one the service issued for the event feed is valid"),
    (r"^(POST|PATCH) .*/webhook-endpoints(/\{id\})?$", 400, r"^validation: (url: (the endpoint URL )?must|description: )",
     "an endpoint URL is https on a public address, without credentials or fragment (NewWebhookEndpoint.url)"),
    (r"^PATCH .*/webhook-endpoints/\{id\}$", 400, r"^validation: ([a-z_]+: only the endpoint's case system may change this.*(; |$))+$",
     "role: administrators may only enable or disable an endpoint"),
    (r"^POST .*/webhook-endpoints(/\{id\}/rotate-secret)?$", 403, r"^forbidden: ",
     "role: only a case system subscribes endpoints and rotates their secrets"),
    (r"^POST .*/webhook-endpoints/\{id\}/deliveries/\{delivery_id\}/replay$", 409, r"^illegal-transition: ",
     "state: only a delivered or dead delivery is replayed; the seeded one is still pending"),
    (r"^POST .*/buddy-requests/\{id\}/feedback-invitation$", 409, r"^feedback-already-invited: ",
     "state: a client is invited once; the generator asked for the seeded client's link again"),
    (r"^POST .*/client-feedback/\{id\}/erase-text$", 409, r"^feedback-text-removed: ",
     "state: an answer's text is removed once; the generator asked again"),
    (r"^(POST|PATCH) ", 412, r"^precondition-failed: ",
     "state: a generated If-Match is not the resource's current ETag (only a tag the service gave is)"),
    (r".*", 400, r"^validation: If-(None-)?Match: must be",
     "schemathesis' coverage phase sends `0` for an optional header whose pattern it cannot meet"),
    (r"^POST ", 422, r"^idempotency-key-reused: ",
     "state: the generator sent an Idempotency-Key again with another body; a key is for one request"),
]


def rule_refusal(label: str, status: int, body: str) -> str | None:
    """Why a refusal of schema-valid data is a documented rule, or None."""
    try:
        problem = json.loads(body)
    except ValueError:
        return None
    kind = str(problem.get("type", "")).rsplit(":", 1)[-1]
    errors = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in problem.get("errors") or [])
    what = f"{kind}: {errors or problem.get('detail') or ''}"
    for op, code, pattern, why in RULE_REFUSALS:
        if status == code and re.search(op, label) and re.search(pattern, what):
            return f"{status} {what[:160]} ({why})"
    return None


def refusal_text(body: str) -> str:
    try:
        problem = json.loads(body)
    except ValueError:
        return body[:160]
    errors = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in problem.get("errors") or [])
    return f"{str(problem.get('type', '')).rsplit(':', 1)[-1]}: {errors or problem.get('detail') or ''}"[:200]


def operations(spec: dict) -> dict[str, dict]:
    return {
        op["operationId"]: {**op, "_label": f"{method.upper()} {path}"}
        for path, methods in spec["paths"].items()
        for method, op in methods.items()
        if method in ("get", "put", "post", "patch", "delete")
    }


def run_role(args, role: str, spec: dict) -> bool:
    print(f"\n=== schemathesis as {role} ===", flush=True)
    # Mail goes to a port nobody listens on, once: every message becomes a dead letter.
    service = Service(args.binary, env={
        "MAATJE__LIMITS__PER_ADDRESS_PER_MINUTE": "1000000",
        "MAATJE__LIMITS__PER_CLIENT_PER_MINUTE": "1000000",
        "MAATJE__LIMITS__LOGIN_PER_ADDRESS_PER_MINUTE": "1000000",
        "MAATJE__MAIL__TRANSPORT": "smtp",
        "MAATJE__MAIL__SMTP__HOST": "127.0.0.1",
        "MAATJE__MAIL__SMTP__PORT": str(free_port()),
        "MAATJE__MAIL__SMTP__TLS": "none",
        "MAATJE__MAIL__MAX_ATTEMPTS": "1",
        "MAATJE__MAIL__POLL_INTERVAL_MS": "100",
    }).start()
    try:
        base = service.origin + spec_server_url(args.spec)
        made = service.bootstrap()
        # Seeding speaks the service's wire (its API lives under /v1), whatever the spec says.
        seeded = seed(service, service.origin + "/v1", made)
        token = seeded["admin_token"] if role == "admin" else made["case_key"]
        if role == "case_system":
            # A case system leaves organisation_id out: its key names the organisation (a
            # documented rule: "must be left out").
            for op in ("create_buddy_request", "record_exit_interview"):
                seeded["fixtures"]["body"][op] = {"-organisation_id": None}
        work = Path(service.work)
        calls = work / "calls.jsonl"
        calls.touch()
        config = f'headers = {{ Authorization = "Bearer {token}" }}\n'
        if role == "admin":
            # Logging out ends the session: logout gets disposable tokens of its own.
            config += (f'[[operations]]\ninclude-operation-id = "logout"\n'
                       f'headers = {{ Authorization = "Bearer {seeded["fixtures"]["auth"]["logout"][0]}" }}\n')
        else:
            seeded["fixtures"]["auth"] = {}
        (work / "fixtures.json").write_text(json.dumps(seeded["fixtures"]))
        (work / "schemathesis.toml").write_text(config)
        report = Path(args.out) / f"schemathesis-{role}-report"
        if report.exists():
            for old in report.iterdir():
                old.unlink()
        env = {
            **os.environ,
            "PYTHONPATH": str(HERE),
            "SCHEMATHESIS_HOOKS": "schemathesis_hooks",
            "MAATJE_CONTRACT_FIXTURES": str(work / "fixtures.json"),
            "MAATJE_CONTRACT_CALLS": str(calls),
        }
        command = [
            str(Path(sys.executable).parent / "schemathesis"), "--config-file", str(work / "schemathesis.toml"),
            "run", str(args.spec), "--url", base,
            "--seed", str(args.seed), "--max-examples", str(args.max_examples),
            "--phases", args.phases, "--checks", "all", "--workers", "1",
            "--no-color", "--report", "ndjson", "--report-dir", str(report),
            "--request-timeout", "30", "--max-failures", "100000", "--continue-on-failure",
        ]
        done = subprocess.run(command, env=env, cwd=work, capture_output=True, text=True)
        (Path(args.out) / f"schemathesis-{role}.txt").write_text(done.stdout + done.stderr)
        return summarise(role, spec, calls, report, done, args)
    finally:
        service.stop()


def summarise(role: str, spec: dict, calls: Path, report: Path, done, args) -> bool:
    ops = operations(spec)
    answers = [json.loads(line) for line in calls.read_text().splitlines() if line.strip()]
    per_op = collections.defaultdict(collections.Counter)
    for a in answers:
        if a.get("own_method", True):
            per_op[a["op"]][a["status"]] += 1
    reached = sorted(op for op, statuses in per_op.items() if any(200 <= s < 300 for s in statuses))
    allowed = {op for op, o in ops.items() if allowed_for(o, role)}
    # Failures from the ndjson event stream.
    failures = []
    for path in sorted(report.glob("*.ndjson")):
        for line in path.read_text().splitlines():
            failures.extend(find_failures(json.loads(line)))
    by_check = collections.Counter(f["check"] for f in failures)  # failing test cases per check
    refusals, fatal = [], []
    seen = set()
    for f in failures:
        key = (f["check"], f["op"], f["status"], f["title"], f.get("reason"))
        if key in seen:
            continue
        seen.add(key)
        if f["check"] == POSITIVE_REJECTED:
            why = rule_refusal(f["op"], f["status"] or 0, f.get("body") or "")
            if why:
                refusals.append(f"{f['op']}: {why}")
                continue
            f["reason"] = refusal_text(f.get("body") or "")
        fatal.append(f)
    covered = len(per_op)
    generated = re.search(r"Test cases:\s*(\d+) generated", done.stdout)
    print(f"{role}: operations in the spec: {len(ops)}; covered: {covered}; reached a 2xx: {len(reached)}; "
          f"test cases generated: {generated.group(1) if generated else '?'} ({len(answers)} requests)")
    not_reached = sorted(allowed - set(reached))
    print(f"{role}: operations allowed for {role}: {len(allowed)}, of which reached a 2xx: "
          f"{len(allowed) - len(not_reached)}" + (f"; not: {', '.join(not_reached)}" if not_reached else ""))
    refused = sorted(op for op in set(ops) - allowed if per_op[op] and not any(200 <= s < 300 for s in per_op[op]))
    leaked = sorted(op for op in set(ops) - allowed if any(200 <= s < 300 for s in per_op[op]))
    if set(ops) - allowed:
        print(f"{role}: operations not allowed for {role}: {len(set(ops) - allowed)}, never a 2xx: {len(refused)}"
              + (f"; a 2xx from: {', '.join(leaked)}" if leaked else ""))
    print(f"{role}: failures by check: " + (", ".join(f"{c} {n}" for c, n in sorted(by_check.items())) or "none"))
    print(f"{role}: server errors: {by_check.get('not_a_server_error', 0)}; "
          f"response-schema violations: {by_check.get('response_schema_conformance', 0)}")
    if refusals:
        print(f"{role}: schema-valid data refused by a documented rule ({len(set(refusals))} distinct):")
        for line in sorted(set(refusals)):
            print(f"    {line}")
    if fatal:
        kinds = collections.defaultdict(set)
        for f in fatal:
            reason = re.sub(r"Unsupported method \w+", "Unsupported method M", f["reason"])
            kinds[(f["check"], f["status"], reason)].add(f["op"])
        print(f"{role}: {len(fatal)} distinct failures, {len(kinds)} kinds "
              f"(details in {args.out}/schemathesis-{role}.txt):")
        for (check, status, reason), labels in sorted(kinds.items(), key=lambda k: (k[0][0], str(k[0][1]), k[0][2])):
            names = ", ".join(sorted(labels))
            print(f"    {check} [{status}] {reason[:150]!r} in {len(labels)}: {names[:400]}")
    if done.returncode not in (0, 1):
        print(f"{role}: schemathesis exited with {done.returncode}:\n{(done.stdout + done.stderr)[-3000:]}")
        return False
    return not fatal and not not_reached and not leaked


def allowed_for(op: dict, role: str) -> bool:
    """From the operation's "Allowed for: admin, coordinator." (no such line: public)."""
    found = re.search(r"Allowed for: ([a-z_, ]+)", op.get("description") or "")
    return found is None or role in [r.strip() for r in found.group(1).split(",")]


def find_failures(event) -> list[dict]:
    """The check failures in one ndjson event of schemathesis 4 (a finished scenario records its
    cases, their checks and the request/response of each)."""
    scenario = event.get("ScenarioFinished")
    if not scenario:
        return []
    recorder = scenario.get("recorder") or {}
    out = []
    for case_id, checks in (recorder.get("checks") or {}).items():
        interaction = (recorder.get("interactions") or {}).get(case_id) or {}
        response = interaction.get("response") or {}
        content = response.get("content") or {}
        body = base64.b64decode(content["$base64"]).decode(errors="replace") if "$base64" in content else ""
        for check in checks:
            if check.get("status") != "failure":
                continue
            failure = (check.get("failure_info") or {}).get("failure") or {}
            message = failure.get("message") or ""
            out.append({
                "check": check["name"], "op": recorder.get("label"),
                "status": response.get("status_code"),
                "title": failure.get("title") or "",
                "reason": message.split("\n\n")[0][:200],
                "body": body,
            })
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", type=Path, default=REPO / "target/debug/maatje")
    parser.add_argument("--spec", type=Path, default=REPO / "openapi/openapi.json")
    parser.add_argument("--max-examples", type=int, default=10)
    parser.add_argument("--seed", type=int, default=20260901)
    parser.add_argument("--phases", default="examples,coverage,fuzzing")
    parser.add_argument("--roles", default="admin,case_system")
    parser.add_argument("--out", default=tempfile.gettempdir())
    args = parser.parse_args()
    spec = json.loads(args.spec.read_text())
    ok = [run_role(args, role, spec) for role in args.roles.split(",")]
    print(f"\nschemathesis: {sum(ok)} of {len(ok)} role runs passed")
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
