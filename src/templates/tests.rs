use minijinja::context;

use super::*;

/// A context with every value any mail template uses.
fn sample(name: &str) -> Value {
    context! {
        buddy_name => name,
        trigger => "complaint",
        region => "Utrecht",
        languages => vec!["nl", "ar"],
        respond_before => "2026-11-25 12:00",
        accept_link => Value::from_safe_string("@@respond:00ff:accept@@".into()),
        decline_link => Value::from_safe_string("@@respond:00ff:decline@@".into()),
        client_first_name => "Sanne",
        client_phone => "+31612345678",
        client_email => Value::from(()),
        channel => "phone",
        request_id => "0190aaaa-0000-7000-8000-000000000001",
        pairing_id => "0190aaaa-0000-7000-8000-000000000002",
        buddy_id => "0190aaaa-0000-7000-8000-000000000003",
        organisation => "Jeugdbescherming Midden",
        created_at => "2026-11-20 09:30",
        reason => Value::from(()),
        ttl_hours => 72,
        buddy_state => "paused",
        overdue_after_days => 5,
        best_score => Value::from(()),
        min_score => 0.5,
        outbox_id => "0190aaaa-0000-7000-8000-000000000004",
        console => "https://maatje.example.org/console",
        kind => "buddy_proposal",
        attempts => 8,
        error => "permanent error (550)",
        endpoint_id => "0190aaaa-0000-7000-8000-000000000005",
        host => "zaaksysteem.example.org",
        delivery_id => "0190aaaa-0000-7000-8000-000000000006",
        event_type => "buddy_request.matched",
        hours => 24,
        feedback_link => Value::from_safe_string("@@feedback:00ff@@".into()),
        feedback_before => "2027-01-07 00:00",
    }
}

fn with_lang(language: &str, name: &str) -> Value {
    context! { lang => language, ..sample(name) }
}

#[test]
fn every_mail_renders_in_both_languages_with_a_subject_text_and_html() {
    let templates = Templates::new();
    for kind in MAIL_KINDS {
        for language in LANGUAGES {
            let mail = templates
                .mail(
                    kind,
                    language,
                    context! { lang => language, ..sample("Jan") },
                )
                .unwrap_or_else(|e| panic!("{kind} {language}: {e:#}"));
            assert!(!mail.subject.is_empty(), "{kind} {language}");
            assert!(!mail.subject.contains('\n'), "{kind} {language}");
            assert!(mail.text.len() > 40, "{kind} {language}: {}", mail.text);
            assert!(
                mail.html.starts_with("<!DOCTYPE html>"),
                "{kind} {language}"
            );
            assert!(
                mail.html.contains(&format!("<html lang=\"{language}\">")),
                "{kind} {language}"
            );
            assert!(!mail.text.contains("{{") && !mail.html.contains("{{"));
        }
    }
}

#[test]
fn the_two_languages_differ() {
    let templates = Templates::new();
    for kind in MAIL_KINDS {
        let nl = templates.mail(kind, "nl", with_lang("nl", "Jan")).unwrap();
        let en = templates.mail(kind, "en", with_lang("en", "Jan")).unwrap();
        assert_ne!(nl.subject, en.subject, "{kind}");
        assert_ne!(nl.text, en.text, "{kind}");
    }
}

#[test]
fn html_escapes_values_and_text_keeps_them() {
    let templates = Templates::new();
    let mail = templates
        .mail(
            "buddy_proposal",
            "en",
            with_lang("en", "<b>Jan</b> & \"Piet\""),
        )
        .unwrap();
    assert!(!mail.html.contains("<b>Jan</b>"), "{}", mail.html);
    assert!(
        mail.html.contains("&lt;b&gt;Jan&lt;&#x2f;b&gt; &amp;"),
        "{}",
        mail.html
    );
    assert!(
        mail.text.contains("Dear <b>Jan</b> & \"Piet\","),
        "{}",
        mail.text
    );
}

#[test]
fn the_proposal_names_no_client_and_carries_both_links() {
    let templates = Templates::new();
    for language in LANGUAGES {
        let mail = templates
            .mail("buddy_proposal", language, with_lang(language, "Jan"))
            .unwrap();
        for part in [&mail.text, &mail.html] {
            assert!(!part.contains("Sanne") && !part.contains("+31612345678"));
            assert!(part.contains("@@respond:00ff:accept@@"), "{language}");
            assert!(part.contains("@@respond:00ff:decline@@"), "{language}");
            assert!(part.contains("Utrecht"));
        }
    }
}

#[test]
fn the_confirmation_carries_the_contact_details_given() {
    let templates = Templates::new();
    let mail = templates
        .mail("buddy_confirmation", "nl", with_lang("nl", "Jan"))
        .unwrap();
    assert!(mail.text.contains("Sanne") && mail.text.contains("+31612345678"));
    assert!(
        !mail.text.contains("E-mail:"),
        "no e-mail address was given"
    );
    assert!(mail.text.contains("Liefst via: telefoon"));
}

#[test]
fn a_missing_value_is_an_error_not_a_gap() {
    let templates = Templates::new();
    let error = templates
        .mail("buddy_thanks", "nl", context! { lang => "nl" })
        .unwrap_err();
    assert_eq!(error.kind(), minijinja::ErrorKind::UndefinedError);
}

#[test]
fn every_page_renders_in_both_languages() {
    let templates = Templates::new();
    for language in LANGUAGES {
        for (page, extra) in [
            ("proposal", context! { answer => "accept" }),
            ("answered", context! { answer => "decline" }),
            ("unavailable", context! { reason => "used" }),
            (
                "feedback_form",
                context! { has_errors => true, errors => context! { score => "x", helped => (), better => () }, values => context! { score => "3", helped => "", better => "" }, max_text => 1000, feedback_before => "2027-01-07 00:00" },
            ),
            ("feedback_thanks", context! {}),
            ("feedback_unavailable", context! { reason => "expired" }),
        ] {
            let html = templates
                .page(
                    page,
                    language,
                    context! { lang => language, nonce => "abc", max_reason => 2000, ..minijinja::value::merge_maps([extra, sample("Jan")]) },
                )
                .unwrap_or_else(|e| panic!("{page} {language}: {e:#}"));
            assert!(html.contains("<style nonce=\"abc\">"), "{page}");
        }
    }
}

/// The bureau works in the console: its mails about a request or a dead mail link to the
/// console page, never to an API path (which staff would have to send by hand). The one
/// exception is the dead webhook, which the case system's people act on through the API.
#[test]
fn bureau_mails_link_to_the_console_not_to_api_paths() {
    let templates = Templates::new();
    for kind in MAIL_KINDS.iter().filter(|k| k.starts_with("bureau_")) {
        for language in LANGUAGES {
            let mail = templates
                .mail(kind, language, with_lang(language, "Jan"))
                .unwrap();
            if *kind == "bureau_webhook_dead" {
                continue;
            }
            assert!(
                !mail.text.contains("/v1/") && !mail.html.contains("/v1/"),
                "{kind} {language} names an API path: {}",
                mail.text
            );
            let page = if *kind == "bureau_dead_letter" {
                "https://maatje.example.org/console/admin/mails".to_owned()
            } else {
                "https://maatje.example.org/console/requests/0190aaaa-0000-7000-8000-000000000001"
                    .to_owned()
            };
            assert!(
                mail.text.contains(&page),
                "{kind} {language}: {}",
                mail.text
            );
            // The HTML escapes `/` in values (`&#x2f;`), which mail readers decode.
            assert!(
                mail.html
                    .replace("&#x2f;", "/")
                    .contains(&format!("href=\"{page}\"")),
                "{kind} {language}: {}",
                mail.html
            );
        }
    }
}
