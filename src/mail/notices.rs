//! What the programme tells whom, by e-mail. Each function renders one message from its
//! templates (see [`crate::templates`]) and writes it to the outbox with the caller's connection,
//! so it is stored in the same transaction as the change it reports, or not at all.
//!
//! | event | to | kind |
//! | --- | --- | --- |
//! | a request arrives | client bureau | `bureau_new_request` |
//! | a buddy is proposed | buddy | `buddy_proposal` (no client identity; response links) |
//! | a proposal is unanswered after `workflow.reminder_after_hours` | buddy | `buddy_reminder` |
//! | the request of an unanswered proposal is withdrawn | buddy | `buddy_withdrawn` |
//! | the buddy accepts | buddy | `buddy_confirmation` (client first name and contact) |
//! | the buddy declines | client bureau | `bureau_declined` |
//! | a proposal expires | client bureau | `bureau_expired` |
//! | a buddy with a pending proposal is paused or retired | client bureau | `bureau_cancelled` |
//! | a pairing ends | buddy | `buddy_thanks` |
//! | an active pairing has no contact for `workflow.contact_reminder_days` | buddy | `buddy_contact_reminder` |
//! | ... nor for twice that | client bureau | `bureau_contact_missing` |
//! | an active pairing is `workflow.check_in_after_days` old | buddy | `buddy_check_in` (two answer links) |
//! | the buddy answers the check-in "needs help" | client bureau | `bureau_check_in_help` |
//! | a pairing ends, the client chose e-mail | client | `client_feedback_invitation` (feedback link; nothing about the case) |
//! | a request is overdue | client bureau | `bureau_overdue` |
//! | auto-proposal finds nobody good enough | client bureau | `bureau_no_candidate` |
//! | a mail is dead-lettered | client bureau | `bureau_dead_letter` |
//! | a webhook delivery is given up | client bureau | `bureau_webhook_dead` |
//! | a buddy asks for a portal sign-in link | buddy | `buddy_sign_in` (the link) |
//! | a buddy asks to stop, in the portal | client bureau | `bureau_retirement_requested` |
//!
//! Buddies get their mail in their `mail_language`; the bureau in `mail.bureau_language`. Every
//! mail shows the bureau's details (`[bureau]`) in both parts, times in Dutch local time and
//! languages by name (see [`crate::templates`]).

use std::sync::Arc;

use chrono::NaiveDateTime;
use minijinja::{context, Value};

use crate::config::Settings;
use crate::db::DbConnection;
use crate::domain::error::{DomainError, DomainResult};
use crate::domain::pairing::ProposalWindow;
use crate::respond::links::{marker_value, sign_in_marker_value, Answer, Links};
use crate::respond::tokens;
use crate::store::buddies::{self, BuddyRow};
use crate::store::outbox::{self, Message, OutboxRow, KIND_DEAD_LETTER_ALERT};
use crate::store::pairings::PairingRow;
use crate::store::requests::{self, RequestRow};
use crate::templates::Templates;

/// A time for a template, UTC to the minute: templates show it in Dutch local time with its
/// zone named through `|local_time` (or the labels' `when` macro), never as it is here.
pub fn display_time(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%d %H:%M").to_string()
}

/// Renders and enqueues the programme's e-mails. Cheap to clone.
#[derive(Clone)]
pub struct Notices {
    inner: Arc<Inner>,
}

struct Inner {
    templates: Templates,
    links: Links,
    bureau_address: String,
    bureau_language: String,
    /// The console's address (`mail.public_base_url` + `/console`), for links in bureau mails.
    console: String,
    /// The buddy portal's address (`mail.public_base_url` + `/buddy`), for links in buddy mails.
    portal: String,
    window: ProposalWindow,
    rhythm: crate::domain::contact::ContactRhythm,
    overdue_after_days: u32,
    auto_propose_min_score: f64,
    /// How long a portal sign-in link works (`portal.sign_in_link_minutes`).
    sign_in_minutes: u32,
}

impl std::fmt::Debug for Notices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Notices")
    }
}

impl Notices {
    pub fn new(settings: &Settings, links: Links) -> Notices {
        Notices {
            inner: Arc::new(Inner {
                templates: Templates::with_bureau(&settings.bureau),
                links,
                bureau_address: settings.mail.bureau_address.clone(),
                bureau_language: settings.mail.bureau_language.as_str().to_owned(),
                console: format!(
                    "{}{}",
                    settings.mail.public_base_url.trim_end_matches('/'),
                    crate::console::PREFIX
                ),
                portal: format!(
                    "{}/buddy",
                    settings.mail.public_base_url.trim_end_matches('/')
                ),
                window: ProposalWindow::from_hours(
                    settings.workflow.proposal_ttl_hours,
                    settings.workflow.reminder_after_hours,
                ),
                rhythm: settings.workflow.contact_rhythm(),
                overdue_after_days: settings.workflow.overdue_after_days,
                auto_propose_min_score: settings.matching.auto_propose_min_score,
                sign_in_minutes: settings.portal.sign_in_link_minutes,
            }),
        }
    }

    pub fn links(&self) -> &Links {
        &self.inner.links
    }

    pub fn templates(&self) -> &Templates {
        &self.inner.templates
    }

    /// When a proposal made at `proposed_at` expires.
    /// How long a proposal waits for its answer.
    pub fn proposal_window(&self) -> ProposalWindow {
        self.inner.window
    }

    /// When running pairings without contact are reminded and flagged.
    pub fn contact_rhythm(&self) -> crate::domain::contact::ContactRhythm {
        self.inner.rhythm
    }

    pub fn proposal_expires_at(&self, proposed_at: NaiveDateTime) -> NaiveDateTime {
        self.inner.window.expires_at(proposed_at)
    }

    fn render(&self, kind: &str, language: &str, context: Value) -> DomainResult<Message> {
        let mail = self
            .inner
            .templates
            .mail(kind, language, context! { lang => language, ..context })
            .map_err(|e| {
                DomainError::internal(format!("mail template {language}/{kind}: {e:#}"))
            })?;
        Ok(Message {
            kind: kind.to_owned(),
            recipient: String::new(),
            language: language.to_owned(),
            subject: mail.subject,
            body_text: mail.text,
            body_html: mail.html,
            related: None,
        })
    }

    fn to_buddy(
        &self,
        conn: &mut DbConnection,
        now: NaiveDateTime,
        kind: &str,
        buddy: &BuddyRow,
        context: Value,
        related: (&str, &str),
    ) -> DomainResult<String> {
        let mut message = self.render(kind, buddy.mail_language.as_str(), context)?;
        message.recipient = buddy.email.clone();
        message.related = Some((related.0.to_owned(), related.1.to_owned()));
        Ok(outbox::enqueue(conn, now, message)?)
    }

    fn to_bureau(
        &self,
        conn: &mut DbConnection,
        now: NaiveDateTime,
        kind: &str,
        context: Value,
        related: (&str, &str),
    ) -> DomainResult<String> {
        let message = self.bureau_message(kind, context, related)?;
        Ok(outbox::enqueue(conn, now, message)?)
    }

    fn bureau_message(
        &self,
        kind: &str,
        context: Value,
        related: (&str, &str),
    ) -> DomainResult<Message> {
        // Every bureau mail may link to the console page it is about.
        let context = context! { console => &self.inner.console, ..context };
        let mut message = self.render(kind, &self.inner.bureau_language, context)?;
        message.recipient = self.inner.bureau_address.clone();
        message.related = Some((related.0.to_owned(), related.1.to_owned()));
        Ok(message)
    }

    /// A new request of the organisation `organisation` names, to the bureau: organisation,
    /// trigger and region; no client data.
    pub fn request_created(
        &self,
        conn: &mut DbConnection,
        request: &RequestRow,
        organisation: &str,
        now: NaiveDateTime,
    ) -> DomainResult<String> {
        let extra = context! { trigger => &request.trigger_kind, region => &request.region };
        self.about_request(
            conn,
            now,
            "bureau_new_request",
            request,
            organisation,
            extra,
        )
    }

    /// The proposal, to the buddy, with a fresh response token: what the buddy needs to
    /// decide (trigger kind, region, languages) and the links; no client identity.
    pub fn proposed(
        &self,
        conn: &mut DbConnection,
        pairing: &PairingRow,
        now: NaiveDateTime,
    ) -> DomainResult<String> {
        let expires_at = self.proposal_expires_at(pairing.proposed_at);
        let token_id = tokens::create(
            conn,
            &self.inner.links,
            &pairing.id,
            &pairing.buddy_id,
            expires_at,
            now,
        )?;
        self.proposal_mail(conn, pairing, &token_id, "buddy_proposal", now)
    }

    /// A reminder of an unanswered proposal, to the buddy, with the proposal's own links.
    /// `None` when the proposal has no live token (it was answered).
    pub fn reminder(
        &self,
        conn: &mut DbConnection,
        pairing: &PairingRow,
        now: NaiveDateTime,
    ) -> DomainResult<Option<String>> {
        let Some(token) = tokens::for_pairing(conn, &pairing.id)? else {
            return Ok(None);
        };
        self.proposal_mail(conn, pairing, &token.id, "buddy_reminder", now)
            .map(Some)
    }

    fn proposal_mail(
        &self,
        conn: &mut DbConnection,
        pairing: &PairingRow,
        token_id: &str,
        kind: &str,
        now: NaiveDateTime,
    ) -> DomainResult<String> {
        let buddy = buddies::find(conn, &pairing.buddy_id)?;
        let request = requests::find(conn, &pairing.request_id)?;
        let context = context! {
            buddy_name => &buddy.full_name,
            trigger => &request.trigger_kind,
            region => &request.region,
            languages => request.client_languages()?,
            respond_before => display_time(self.proposal_expires_at(pairing.proposed_at)),
            accept_link => marker_value(token_id, Answer::Accept),
            decline_link => marker_value(token_id, Answer::Decline),
        };
        self.to_buddy(conn, now, kind, &buddy, context, ("pairing", &pairing.id))
    }

    /// After acceptance, to the buddy: the client's first name and contact details, which the
    /// client consented to share.
    pub fn accepted(
        &self,
        conn: &mut DbConnection,
        pairing: &PairingRow,
        now: NaiveDateTime,
    ) -> DomainResult<String> {
        let buddy = buddies::find(conn, &pairing.buddy_id)?;
        let request = requests::find(conn, &pairing.request_id)?;
        let context = context! {
            buddy_name => &buddy.full_name,
            client_first_name => &request.client_first_name,
            client_phone => &request.client_phone,
            client_email => &request.client_email,
            channel => &request.client_preferred_channel,
            region => &request.region,
        };
        self.to_buddy(
            conn,
            now,
            "buddy_confirmation",
            &buddy,
            context,
            ("pairing", &pairing.id),
        )
    }

    /// A declined proposal, to the bureau, with the buddy's reason.
    pub fn declined(
        &self,
        conn: &mut DbConnection,
        pairing: &PairingRow,
        now: NaiveDateTime,
    ) -> DomainResult<String> {
        let extra = context! { reason => &pairing.decline_reason };
        self.about_pairing(conn, now, "bureau_declined", pairing, extra)
    }

    /// An expired proposal, to the bureau.
    pub fn expired(
        &self,
        conn: &mut DbConnection,
        pairing: &PairingRow,
        now: NaiveDateTime,
    ) -> DomainResult<String> {
        let extra = context! { ttl_hours => self.inner.window.ttl.num_hours() };
        self.about_pairing(conn, now, "bureau_expired", pairing, extra)
    }

    /// A proposal cancelled because its buddy can no longer take it on (paused or retired), to
    /// the bureau: the request is open again.
    pub fn cancelled(
        &self,
        conn: &mut DbConnection,
        pairing: &PairingRow,
        now: NaiveDateTime,
    ) -> DomainResult<String> {
        let buddy = buddies::find(conn, &pairing.buddy_id)?;
        let extra = context! { buddy_state => &buddy.state };
        self.about_pairing(conn, now, "bureau_cancelled", pairing, extra)
    }

    /// A note to the bureau naming a pairing, its request and its buddy, plus `extra`.
    fn about_pairing(
        &self,
        conn: &mut DbConnection,
        now: NaiveDateTime,
        kind: &str,
        pairing: &PairingRow,
        extra: Value,
    ) -> DomainResult<String> {
        let context = context! {
            request_id => &pairing.request_id,
            pairing_id => &pairing.id,
            buddy_id => &pairing.buddy_id,
            ..extra
        };
        self.to_bureau(conn, now, kind, context, ("pairing", &pairing.id))
    }

    /// The request of an unanswered proposal was withdrawn, to the buddy: nothing to do, the
    /// links no longer work.
    pub fn withdrawn(
        &self,
        conn: &mut DbConnection,
        pairing: &PairingRow,
        now: NaiveDateTime,
    ) -> DomainResult<String> {
        self.greet_buddy(conn, now, "buddy_withdrawn", pairing)
    }

    /// Thanks at the end of a pairing, to the buddy.
    pub fn ended(
        &self,
        conn: &mut DbConnection,
        pairing: &PairingRow,
        now: NaiveDateTime,
    ) -> DomainResult<String> {
        self.greet_buddy(conn, now, "buddy_thanks", pairing)
    }

    /// No contact recorded for a while, to the buddy, once per quiet period: how long it has
    /// been quiet, and where to record a contact (the portal). Names the client by first name,
    /// as the confirmation mail did, so a buddy with several pairings knows which one.
    pub fn contact_reminder(
        &self,
        conn: &mut DbConnection,
        pairing: &PairingRow,
        now: NaiveDateTime,
    ) -> DomainResult<String> {
        let extra = context! {
            quiet_since => pairing.quiet_since.map(display_time),
            portal => &self.inner.portal,
        };
        self.to_paired_buddy(conn, now, "buddy_contact_reminder", pairing, extra)
    }

    /// A running pairing without contact for twice the reminder period, to the bureau: the
    /// pairing, its request and buddy, and since when it is quiet (no note, no client data).
    pub fn contact_missing(
        &self,
        conn: &mut DbConnection,
        pairing: &PairingRow,
        now: NaiveDateTime,
    ) -> DomainResult<String> {
        let extra = context! {
            quiet_since => pairing.quiet_since.map(display_time),
            last_contact_on => pairing.last_contact_on.map(|d| d.to_string()),
        };
        self.about_pairing(conn, now, "bureau_contact_missing", pairing, extra)
    }

    /// The check-in of a running pairing, to the buddy: how is it going? Two links, each
    /// opening a page that asks to confirm (`token_id`, see [`tokens::PURPOSE_CHECK_IN`]).
    pub fn check_in(
        &self,
        conn: &mut DbConnection,
        pairing: &PairingRow,
        token_id: &str,
        now: NaiveDateTime,
    ) -> DomainResult<String> {
        let extra = context! {
            fine_link => marker_value(token_id, Answer::Fine),
            help_link => marker_value(token_id, Answer::NeedsHelp),
        };
        self.to_paired_buddy(conn, now, "buddy_check_in", pairing, extra)
    }

    /// The buddy answered the check-in with "needs help", to the bureau.
    pub fn check_in_help(
        &self,
        conn: &mut DbConnection,
        pairing: &PairingRow,
        now: NaiveDateTime,
    ) -> DomainResult<String> {
        self.about_pairing(conn, now, "bureau_check_in_help", pairing, context! {})
    }

    /// A mail to a pairing's buddy that needs nothing but their name.
    /// A mail about a running pairing to its buddy, naming the client by first name as the
    /// confirmation mail did (so a buddy with several pairings knows which one), with `extra`.
    fn to_paired_buddy(
        &self,
        conn: &mut DbConnection,
        now: NaiveDateTime,
        kind: &str,
        pairing: &PairingRow,
        extra: Value,
    ) -> DomainResult<String> {
        let buddy = buddies::find(conn, &pairing.buddy_id)?;
        let request = requests::find(conn, &pairing.request_id)?;
        let context = context! {
            buddy_name => &buddy.full_name,
            client_first_name => &request.client_first_name,
            ..extra
        };
        self.to_buddy(conn, now, kind, &buddy, context, ("pairing", &pairing.id))
    }

    fn greet_buddy(
        &self,
        conn: &mut DbConnection,
        now: NaiveDateTime,
        kind: &str,
        pairing: &PairingRow,
    ) -> DomainResult<String> {
        let buddy = buddies::find(conn, &pairing.buddy_id)?;
        let context = context! { buddy_name => &buddy.full_name };
        self.to_buddy(conn, now, kind, &buddy, context, ("pairing", &pairing.id))
    }

    /// A sign-in link to the buddy portal, to the buddy, with a fresh token valid until
    /// `expires_at`: the mail holds the token's marker, which the worker replaces by the link
    /// when it sends the mail.
    pub fn sign_in_link(
        &self,
        conn: &mut DbConnection,
        buddy: &BuddyRow,
        expires_at: NaiveDateTime,
        now: NaiveDateTime,
    ) -> DomainResult<String> {
        let token_id = tokens::create_sign_in(conn, &self.inner.links, &buddy.id, expires_at, now)?;
        let token_id = token_id.as_str();
        let context = context! {
            buddy_name => &buddy.full_name,
            sign_in_link => sign_in_marker_value(token_id),
            minutes => self.inner.sign_in_minutes,
        };
        self.to_buddy(
            conn,
            now,
            "buddy_sign_in",
            buddy,
            context,
            ("buddy", &buddy.id),
        )
    }

    /// A buddy asked to stop in the portal, to the bureau: which buddy (by id) and a link to
    /// their console page, where the retirement is confirmed.
    pub fn retirement_requested(
        &self,
        conn: &mut DbConnection,
        buddy: &BuddyRow,
        now: NaiveDateTime,
    ) -> DomainResult<String> {
        self.to_bureau(
            conn,
            now,
            "bureau_retirement_requested",
            context! { buddy_id => &buddy.id },
            ("buddy", &buddy.id),
        )
    }

    /// An overdue request, to the bureau.
    pub fn overdue(
        &self,
        conn: &mut DbConnection,
        request: &RequestRow,
        organisation: &str,
        now: NaiveDateTime,
    ) -> DomainResult<String> {
        let extra = context! { overdue_after_days => self.inner.overdue_after_days };
        self.about_request(conn, now, "bureau_overdue", request, organisation, extra)
    }

    /// Auto-proposal found nobody (`best_score` `None`) or nobody scoring high enough; to the
    /// bureau.
    pub fn no_candidate(
        &self,
        conn: &mut DbConnection,
        request: &RequestRow,
        organisation: &str,
        best_score: Option<f64>,
        now: NaiveDateTime,
    ) -> DomainResult<String> {
        let extra = context! {
            best_score => best_score.map(|s| format!("{s:.2}")),
            min_score => format!("{:.2}", self.inner.auto_propose_min_score),
        };
        self.about_request(
            conn,
            now,
            "bureau_no_candidate",
            request,
            organisation,
            extra,
        )
    }

    /// A note to the bureau naming a request, its organisation and when it came in (no client
    /// data), plus `extra`.
    fn about_request(
        &self,
        conn: &mut DbConnection,
        now: NaiveDateTime,
        kind: &str,
        request: &RequestRow,
        organisation: &str,
        extra: Value,
    ) -> DomainResult<String> {
        let context = context! {
            request_id => &request.id,
            organisation => organisation,
            created_at => display_time(request.created_at),
            ..extra
        };
        self.to_bureau(conn, now, kind, context, ("buddy_request", &request.id))
    }

    /// The alert about a dead letter, to the bureau: which message died and why, without
    /// personal data (no recipient, no subject, no body).
    pub fn dead_letter(&self, dead: &OutboxRow, error: &str) -> DomainResult<Message> {
        self.bureau_message(
            KIND_DEAD_LETTER_ALERT,
            context! {
                outbox_id => &dead.id,
                kind => &dead.kind,
                attempts => dead.attempts,
                error => error,
            },
            ("outbox", &dead.id),
        )
    }

    /// A webhook delivery given up after `hours` of retries, to the bureau: the endpoint, its
    /// host, the event type and the last error; no personal data (an event carries none).
    #[allow(clippy::too_many_arguments)]
    pub fn webhook_dead(
        &self,
        conn: &mut DbConnection,
        now: NaiveDateTime,
        organisation: &str,
        endpoint_id: &str,
        host: &str,
        delivery: &crate::store::webhooks::DeliveryRow,
        hours: u32,
        error: &str,
    ) -> DomainResult<String> {
        self.to_bureau(
            conn,
            now,
            "bureau_webhook_dead",
            context! {
                organisation => organisation,
                endpoint_id => endpoint_id,
                host => host,
                delivery_id => &delivery.id,
                event_type => &delivery.event_type,
                attempts => delivery.attempts,
                hours => hours,
                error => error,
            },
            ("webhook_delivery", &delivery.id),
        )
    }

    /// The invitation to give feedback, to a client who chose e-mail, with the link of
    /// invitation `token_id` (a marker the worker replaces when it sends the mail). Nothing about
    /// the case, the buddy or the request: the message names no record (`related` is empty), so
    /// the outbox does not tie the invitation to a request either.
    pub fn feedback_invitation(
        &self,
        conn: &mut DbConnection,
        recipient: &str,
        language: &str,
        token_id: &str,
        expires_at: NaiveDateTime,
        now: NaiveDateTime,
    ) -> DomainResult<String> {
        let context = context! {
            feedback_link => crate::respond::links::feedback_marker_value(token_id),
            feedback_before => display_time(expires_at),
        };
        let mut message = self.render("client_feedback_invitation", language, context)?;
        message.recipient = recipient.to_owned();
        Ok(outbox::enqueue(conn, now, message)?)
    }
}
