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
        portal => "https://maatje.example.org/portal",
        quiet_since => "2026-11-06 09:00",
        last_contact_on => "2026-11-05",
        fine_link => Value::from_safe_string("@@check_in:00ff:fine@@".into()),
        help_link => Value::from_safe_string("@@check_in:00ff:needs_help@@".into()),
        sign_in_link => Value::from_safe_string("@@respond:00ff:sign-in@@".into()),
        minutes => 15,
        feedback_link => Value::from_safe_string("@@feedback:00ff@@".into()),
        feedback_before => "2027-01-07 00:00",
    }
}

/// Every buddy page, with the values of one of its views.
fn page_samples() -> Vec<(&'static str, Value)> {
    vec![
        ("proposal", context! { answer => "accept" }),
        ("answered", context! { answer => "decline" }),
        (
            "unavailable",
            context! { reason => "used", about => "proposal" },
        ),
        (
            "unavailable",
            context! { reason => "expired", about => "check_in" },
        ),
        ("check_in", context! { answer => "needs_help" }),
        ("checked_in", context! { answer => "fine" }),
        (
            "feedback_form",
            context! { has_errors => true, errors => context! { score => "x", helped => (), better => () }, values => context! { score => "3", helped => "", better => "" }, max_text => 1000, feedback_before => "2027-01-07 00:00" },
        ),
        ("feedback_thanks", context! {}),
        ("feedback_unavailable", context! { reason => "expired" }),
    ]
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
    // The part above the signature separator: the footer names the bureau's own address.
    let (body, _footer) = mail.text.split_once("\n-- \n").expect("a footer");
    assert!(!body.contains("E-mail:"), "no e-mail address was given");
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
        for (page, extra) in page_samples() {
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
            } else if ["bureau_contact_missing", "bureau_check_in_help"].contains(kind) {
                "https://maatje.example.org/console/pairings/0190aaaa-0000-7000-8000-000000000002"
                    .to_owned()
            } else if *kind == "bureau_retirement_requested" {
                "https://maatje.example.org/console/buddies/0190aaaa-0000-7000-8000-000000000003"
                    .to_owned()
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

/// A bureau unlike the built-in example, so that a template showing the example by accident
/// fails.
fn bureau() -> BureauSettings {
    BureauSettings {
        name: "Bureau Maatjes & Co".into(),
        phone: "+31 30 765 4321".into(),
        email: "vragen@bureau-maatjes.nl".into(),
        postal_address: "Postbus 4321, 3500 AA Utrecht".into(),
    }
}

#[test]
fn every_mail_shows_the_bureau_in_both_parts_and_in_the_reader_s_language() {
    let templates = Templates::with_bureau(&bureau());
    for kind in MAIL_KINDS {
        for (language, phone) in [("nl", "Telefoon"), ("en", "Phone")] {
            // `lang` comes from the language rendered in, whatever the context says.
            let mail = templates
                .mail(kind, language, sample("Jan"))
                .unwrap_or_else(|e| panic!("{kind} {language}: {e:#}"));
            let (_, footer) = mail
                .text
                .split_once("\n-- \n")
                .unwrap_or_else(|| panic!("{kind} {language}: no footer in {}", mail.text));
            for detail in [
                "Bureau Maatjes & Co",
                "Postbus 4321, 3500 AA Utrecht",
                "+31 30 765 4321",
                "vragen@bureau-maatjes.nl",
                phone,
            ] {
                assert!(footer.contains(detail), "{kind} {language}: {footer}");
            }
            for detail in [
                "Bureau Maatjes &amp; Co",
                "Postbus 4321, 3500 AA Utrecht",
                "+31 30 765 4321",
                "mailto:vragen@bureau-maatjes.nl",
                phone,
            ] {
                assert!(
                    mail.html.contains(detail),
                    "{kind} {language}: {}",
                    mail.html
                );
            }
            for part in [&mail.text, &mail.html] {
                assert!(
                    !part.contains("Voorbeeld"),
                    "{kind} {language}: the example bureau"
                );
                assert!(!part.contains("(UTC)"), "{kind} {language}: a time in UTC");
            }
        }
    }
}

#[test]
fn every_page_shows_the_bureau() {
    let templates = Templates::with_bureau(&bureau());
    for language in LANGUAGES {
        for (page, extra) in page_samples() {
            let html = templates
                .page(
                    page,
                    language,
                    context! { lang => language, nonce => "abc", max_reason => 2000, ..minijinja::value::merge_maps([extra, sample("Jan")]) },
                )
                .unwrap();
            for detail in [
                "Bureau Maatjes &amp; Co",
                "Postbus 4321, 3500 AA Utrecht",
                "+31 30 765 4321",
                "mailto:vragen@bureau-maatjes.nl",
            ] {
                assert!(html.contains(detail), "{page} {language}: {html}");
            }
        }
    }
}

#[test]
fn mails_and_pages_name_languages_and_show_dutch_local_time() {
    let templates = Templates::new();
    let nl = templates
        .mail("buddy_proposal", "nl", sample("Jan"))
        .unwrap();
    let en = templates
        .mail("buddy_proposal", "en", sample("Jan"))
        .unwrap();
    // 2026-11-25 12:00 UTC is 13:00 in Amsterdam (winter time, UTC+1).
    for part in [&nl.text, &nl.html] {
        assert!(part.contains("Nederlands, Arabisch"), "{part}");
        assert!(
            part.contains("25 november 2026 om 13:00 (Nederlandse tijd)"),
            "{part}"
        );
        assert!(!part.contains("12:00"), "{part}");
    }
    for part in [&en.text, &en.html] {
        assert!(part.contains("Dutch, Arabic"), "{part}");
        assert!(
            part.contains("25 November 2026 at 13:00 (Dutch time)"),
            "{part}"
        );
    }
    let page = templates
        .page(
            "proposal",
            "en",
            context! { lang => "en", nonce => "abc", max_reason => 2000, answer => "accept", ..sample("Jan") },
        )
        .unwrap();
    assert!(page.contains("Dutch, Arabic"), "{page}");
    assert!(
        page.contains("25 November 2026 at 13:00 (Dutch time)"),
        "{page}"
    );
}

/// The filters every template has, across the night summer time ends (2026-10-25: at 01:00 UTC
/// the clocks go from 03:00 CEST back to 02:00 CET) and the night it starts (2027-03-28: at
/// 01:00 UTC from 02:00 CET to 03:00 CEST).
#[test]
fn the_local_time_filter_follows_dutch_summer_time_across_both_changes() {
    let templates = Templates::new();
    let render = |source: &'static str, lang: &str, at: &str| {
        let mut env = templates.env.clone();
        env.add_template("probe", source).unwrap();
        env.get_template("probe")
            .unwrap()
            .render(context! { lang => lang, at => at })
            .unwrap()
    };
    let time = |lang: &str, at: &str| render("{{ at | local_time }}", lang, at);
    // Summer time (CEST, UTC+2) until 01:00 UTC, then winter time (CET, UTC+1): 02:00 to 03:00
    // local happens twice.
    assert_eq!(
        time("nl", "2026-10-25T00:30:00Z"),
        "25 oktober 2026 om 02:30 (Nederlandse tijd)"
    );
    assert_eq!(
        time("nl", "2026-10-25T00:59:00"),
        "25 oktober 2026 om 02:59 (Nederlandse tijd)"
    );
    assert_eq!(
        time("nl", "2026-10-25 01:00"),
        "25 oktober 2026 om 02:00 (Nederlandse tijd)"
    );
    assert_eq!(
        time("en", "2026-10-25T01:30:00"),
        "25 October 2026 at 02:30 (Dutch time)"
    );
    assert_eq!(
        time("en", "2027-03-28T00:59:00"),
        "28 March 2027 at 01:59 (Dutch time)"
    );
    assert_eq!(
        time("en", "2027-03-28T01:00:00"),
        "28 March 2027 at 03:00 (Dutch time)"
    );
    // A date near midnight is the local date, not the UTC one.
    assert_eq!(
        render("{{ at | local_date }}", "nl", "2027-06-30T22:30:00"),
        "1 juli 2027"
    );
    // Language codes by name in the reader's language; an unknown code as itself.
    assert_eq!(
        render(
            "{{ 'en' | language }} / {{ ['ar', 'xx'] | language_names | join(', ') }}",
            "en",
            "x"
        ),
        "English / Arabic, xx"
    );
    // Something that is not a time is an error, not a silent UTC text.
    let mut env = templates.env.clone();
    env.add_template("bad", "{{ 'tomorrow' | local_time }}")
        .unwrap();
    assert!(env
        .get_template("bad")
        .unwrap()
        .render(context! {})
        .is_err());
}
