#!/usr/bin/env python3
"""The README walk-through, run by a client generated from openapi/openapi.json with
openapi-python-client, against a live service: what a new integrator would do.

    generated_client_walkthrough.py --binary target/debug/maatje --client DIR [--spec FILE]

DIR holds the generated package `maatje_client` (.ci/contract-tools generates it into a temporary
directory; nothing generated is committed). Every call goes through the generated client's typed
functions and models; the only raw HTTP here is an httpx event hook that records the status of
each answer, so that a step can say whether the server answered before the client failed.

The bootstrap is the README's: the `maatje admin` CLI makes the first admin, an organisation and
its case system's key. The buddy's acceptance is recorded by staff through the API
(`POST /pairings/{id}/accept`, "on the buddy's behalf"): the README's buddy link is an HTML page,
not part of the contract. Prints each step with PASS/FAIL and "N of M steps passed"; exits 1
unless every step passed.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from contract_service import ADMIN_EMAIL, ADMIN_PASSWORD, REPO, Service, spec_server_url  # noqa: E402


class StepFailed(Exception):
    pass


class Walkthrough:
    def __init__(self, client_pkg, base_url: str, service: Service):
        self.c = client_pkg
        self.base_url = base_url
        self.service = service
        self.last_status: int | None = None
        self.state: dict = {}
        self.results: list[tuple[str, bool, str]] = []

    # --- the generated client ------------------------------------------------------------

    def _record(self, response) -> None:
        self.last_status = response.status_code

    def client(self, token: str | None = None):
        args = {"base_url": self.base_url, "httpx_args": {"event_hooks": {"response": [self._record]}}}
        if token is None:
            return self.c.client.Client(**args)
        return self.c.client.AuthenticatedClient(token=token, **args)

    def call(self, what: str, function, *args, **kwargs):
        """`function.sync_detailed(...)`, failing the step with the reason when it raises."""
        self.last_status = None
        try:
            return function.sync_detailed(*args, **kwargs)
        except Exception as e:  # the generated code raised: say on which side
            if self.last_status is None:
                raise StepFailed(f"{what}: the client could not send the request: {type(e).__name__}: {e}")
            raise StepFailed(
                f"{what}: the server answered {self.last_status} but the client could not parse it: "
                f"{type(e).__name__}: {e}"
            )

    def expect(self, what: str, response, status: int, model):
        if response.status_code != status or not isinstance(response.parsed, model):
            problem = response.parsed
            detail = ""
            if isinstance(problem, self.c.models.Problem):
                detail = f" {problem.type_}: {problem.detail}"
                errors = problem.errors if isinstance(problem.errors, list) else []
                if errors:
                    detail += " [" + "; ".join(f"{e.field}: {e.message}" for e in errors) + "]"
            raise StepFailed(
                f"{what}: expected {status} {model.__name__}, got {int(response.status_code)}"
                f"{detail or ' ' + response.content[:300].decode(errors='replace')}"
            )
        return response.parsed

    def enum(self, cls, wire: str):
        """The member of a generated enum for the value the service reads and writes."""
        for member in cls:
            if member.value == wire:
                return member
        raise StepFailed(
            f"the contract's {cls.__name__} has no value {wire!r} (it lists {[m.value for m in cls]}), "
            "so the client cannot send what the service accepts"
        )

    @staticmethod
    def wire(value) -> str:
        return getattr(value, "value", value)

    def need(self, *keys: str):
        missing = [k for k in keys if k not in self.state]
        if missing:
            raise StepFailed(f"skipped: an earlier step did not give {', '.join(missing)}")
        return [self.state[k] for k in keys]

    def step(self, title: str, body) -> None:
        try:
            detail = body() or ""
            self.results.append((title, True, detail))
            print(f"PASS  {len(self.results):2}. {title}{': ' + detail if detail else ''}", flush=True)
        except StepFailed as e:
            self.results.append((title, False, str(e)))
            print(f"FAIL  {len(self.results):2}. {title}: {e}", flush=True)
        except Exception as e:
            self.results.append((title, False, repr(e)))
            print(f"FAIL  {len(self.results):2}. {title}: script error: {e!r}", flush=True)
            traceback.print_exc()

    def read_request(self, states: tuple[str, ...]):
        (case, request) = self.need("case", "request")
        m = self.c.models
        r = self.call("GET buddy-requests/{id}", self.c.api.buddy_requests.get_buddy_request, request, client=case)
        got = self.expect("GET buddy-requests/{id}", r, 200, m.BuddyRequest)
        seen = (self.wire(got.state),)
        if len(states) > 1:
            pairing = got.pairing if isinstance(got.pairing, m.PairingSummary) else None
            seen += (self.wire(pairing.state) if pairing else None,)
        if seen != states:
            raise StepFailed(f"expected {states}, got {seen}")
        return ", ".join(states)

    # --- the walk-through ----------------------------------------------------------------

    def run(self) -> int:
        api, m = self.c.api, self.c.models
        today = datetime.datetime.now(datetime.timezone.utc).date()

        def bootstrap():
            made = self.service.bootstrap()
            self.state["case"] = self.client(made["case_key"])
            return "maatje admin create-staff, create-organisation, create-api-client"

        def login():
            r = self.call("POST auth/login", api.auth.login, client=self.client(),
                          body=m.Credentials(email=ADMIN_EMAIL, password=ADMIN_PASSWORD))
            session = self.expect("POST auth/login", r, 200, m.LoginSession)
            self.state["staff"] = self.client(session.token)
            return f"role {self.wire(session.staff.role)}"

        def exit_interview():
            (case,) = self.need("case")
            body = m.NewExitInterview(
                held_on=today,
                answer=self.enum(m.Answer, "yes"),
                candidate=m.BuddyInput(
                    name="Sam Voorbeeld", email="buddy1@example.org", languages=[self.enum(m.LanguageCode, "nl"), self.enum(m.LanguageCode, "en")],
                    region="Utrecht", experience=[self.enum(m.MeasureKind, "supervision_order")],
                ),
            )
            r = self.call("POST exit-interviews", api.exit_interviews.record_exit_interview, client=case, body=body)
            recorded = self.expect("POST exit-interviews", r, 201, m.ExitInterviewRecorded)
            if not isinstance(recorded.buddy, m.Buddy):
                raise StepFailed("a yes created no buddy")
            self.state["buddy"] = recorded.buddy.id
            return f"buddy {self.wire(recorded.buddy.state)}"

        def start_screening():
            (staff, buddy) = self.need("staff", "buddy")
            r = self.call("POST buddies/{id}/start-screening", api.buddies.start_buddy_screening, buddy, client=staff)
            got = self.expect("POST buddies/{id}/start-screening", r, 200, m.Buddy)
            return self.wire(got.state)

        def screening_dates():
            (staff, buddy) = self.need("staff", "buddy")
            body = m.BuddyPatch(vog_issued_on=today, training_completed_on=today, agreement_signed_on=today)
            r = self.call("PATCH buddies/{id}", api.buddies.update_buddy, buddy, client=staff, body=body)
            self.expect("PATCH buddies/{id}", r, 200, m.Buddy)

        def activate_buddy():
            (staff, buddy) = self.need("staff", "buddy")
            r = self.call("POST buddies/{id}/activate", api.buddies.activate_buddy, buddy, client=staff)
            got = self.expect("POST buddies/{id}/activate", r, 200, m.Buddy)
            if self.wire(got.state) != "active":
                raise StepFailed(f"state {self.wire(got.state)}")
            return "active"

        def request():
            (case,) = self.need("case")
            body = m.NewBuddyRequest(
                client_ref="CASE-2026-0042",
                trigger=self.enum(m.Trigger, "complaint"),
                client=m.ClientContact(first_name="Alex", email="client1@example.org",
                                       preferred_channel=self.enum(m.ContactChannel, "email"), languages=[self.enum(m.LanguageCode, "nl")]),
                region="Utrecht",
                consent_to_share_contact=True,
            )
            r = self.call("POST buddy-requests", api.buddy_requests.create_buddy_request, client=case, body=body)
            got = self.expect("POST buddy-requests", r, 201, m.BuddyRequest)
            self.state["request"] = got.id

        def propose():
            (staff, request, buddy) = self.need("staff", "request", "buddy")
            r = self.call("POST pairings", api.pairings.propose_pairing, client=staff,
                          body=m.NewPairing(request_id=request, buddy_id=buddy))
            got = self.expect("POST pairings", r, 201, m.Pairing)
            self.state["pairing"] = got.id
            return self.wire(got.state)

        def pairing_action(name: str, function, body=None, expect_state: str | None = None):
            def run():
                (staff, pairing) = self.need("staff", "pairing")
                kwargs = {"client": staff}
                if body is not None:
                    kwargs["body"] = body()
                r = self.call(f"POST pairings/{{id}}/{name}", function, pairing, **kwargs)
                got = self.expect(f"POST pairings/{{id}}/{name}", r, 200, m.Pairing)
                if expect_state and self.wire(got.state) != expect_state:
                    raise StepFailed(f"state {self.wire(got.state)}, expected {expect_state}")
                return self.wire(got.state)
            return run

        def end_body():
            return m.EndPairing(
                reason=self.enum(m.EndReason, "goal_reached"),
                evaluation=m.Evaluation(client_score=5, buddy_score=4, comment="Helpful talks."),
            )

        def history():
            (case, request) = self.need("case", "request")
            r = self.call("GET buddy-requests/{id}/history", api.buddy_requests.buddy_request_history,
                          request, client=case)
            page = self.expect("GET buddy-requests/{id}/history", r, 200, m.HistoryPage)
            rows = [
                [e.action, self.wire(e.from_state) if isinstance(e.from_state, str) else None,
                 self.wire(e.to_state) if isinstance(e.to_state, str) else None, e.actor.type_]
                for e in page.items
            ]
            expected = [
                ["create", None, "open", "api_client"],
                ["propose", "open", "proposed", "staff"],
                ["match", "proposed", "matched", "staff"],  # accepted by staff on the buddy's behalf
                ["close", "matched", "closed", "staff"],
            ]
            if rows != expected:
                raise StepFailed(f"history {rows}, expected {expected}")
            return f"{len(rows)} entries"

        def accept_again():
            (staff, pairing) = self.need("staff", "pairing")
            r = self.call("POST pairings/{id}/accept", api.pairings.accept_pairing, pairing, client=staff)
            problem = self.expect("POST pairings/{id}/accept", r, 409, m.Problem)
            got = (problem.status, problem.current_state, problem.attempted_action)
            if got != (409, "ended", "accept"):
                raise StepFailed(f"problem {got}")
            return "409 illegal transition, current_state ended"

        def case_lists_buddies():
            (case,) = self.need("case")
            r = self.call("GET buddies", api.buddies.list_buddies, client=case)
            problem = self.expect("GET buddies", r, 403, m.Problem)
            return f"{problem.status} {problem.title}"

        def no_credentials():
            r = self.call("GET buddy-requests", api.buddy_requests.list_buddy_requests, client=self.client())
            problem = self.expect("GET buddy-requests", r, 401, m.Problem)
            return f"{problem.status} {problem.title}"

        steps = [
            ("bootstrap: the first admin, an organisation and its case system's key (CLI)", bootstrap),
            ("the client bureau logs in", login),
            ("the case system records a yes at the exit interview: a buddy candidate", exit_interview),
            ("staff start the buddy's screening", start_screening),
            ("staff record VOG, training and agreement", screening_dates),
            ("staff activate the buddy", activate_buddy),
            ("the case system requests a buddy for its client", request),
            ("the case system follows its request: open", lambda: self.read_request(("open",))),
            ("staff propose the buddy", propose),
            ("request and pairing: proposed, proposed", lambda: self.read_request(("proposed", "proposed"))),
            ("the acceptance, recorded by staff on the buddy's behalf",
             pairing_action("accept", api.pairings.accept_pairing, expect_state="accepted")),
            ("request and pairing: matched, accepted", lambda: self.read_request(("matched", "accepted"))),
            ("staff activate the pairing: they met",
             pairing_action("activate", api.pairings.activate_pairing, expect_state="active")),
            ("staff end the pairing with an evaluation",
             pairing_action("end", api.pairings.end_pairing, body=end_body, expect_state="ended")),
            ("request and pairing: closed, ended", lambda: self.read_request(("closed", "ended"))),
            ("the case system reads the request's history", history),
            ("a second acceptance is a 409 problem", accept_again),
            ("a case system listing buddies is a 403 problem", case_lists_buddies),
            ("no credentials is a 401 problem", no_credentials),
        ]
        for title, body in steps:
            self.step(title, body)
        passed = sum(1 for _, ok, _ in self.results if ok)
        print(f"generated client walk-through: {passed} of {len(self.results)} steps passed")
        return 0 if passed == len(self.results) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", type=Path, default=REPO / "target/debug/maatje")
    parser.add_argument("--client", type=Path, required=True, help="the directory holding maatje_client/")
    parser.add_argument("--spec", type=Path, default=REPO / "openapi/openapi.json")
    args = parser.parse_args()
    sys.path.insert(0, str(args.client))
    import maatje_client
    import maatje_client.api  # noqa: F401
    import maatje_client.client  # noqa: F401
    import maatje_client.models  # noqa: F401
    import importlib
    import pkgutil

    for module in pkgutil.walk_packages(maatje_client.api.__path__, "maatje_client.api."):
        importlib.import_module(module.name)

    service = Service(args.binary).start()
    try:
        base_url = service.origin + spec_server_url(args.spec)
        print(f"service at {service.origin}; the client's base URL is {base_url}")
        status = Walkthrough(maatje_client, base_url, service).run()
        if status != 0:
            print("last lines of the service's log:\n" + service.log_tail(10))
        return status
    finally:
        service.stop()


if __name__ == "__main__":
    sys.exit(main())
