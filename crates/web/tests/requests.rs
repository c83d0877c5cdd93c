//! Support requests, their timeline and transitions, evidence attachments and consultations through the
//! real router: permissions per role, refusals with Japanese messages, and nothing changing on refusal.

mod common;

use axum::http::StatusCode;
use common::{Client, Resp, TestApp};
use unyo_domain::registry::{SiteInput, TerminalInput};
use unyo_domain::support::{ContractInput, RequestInput};
use unyo_store::Actor;
use unyo_store::audit::AuditQuery;
use unyo_store::support::jst_today;

const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

/// Two sites, a representative and a business terminal at the first, one terminal at the second.
struct Fleet {
    kencho: i64,
    tosu: i64,
    rep: i64,
    biz: i64,
    tosu_pc: i64,
}

async fn fleet(app: &TestApp) -> Fleet {
    let sys = Actor::system("test");
    let site = |code: &str, name: &str, kind: &str| SiteInput {
        code: code.into(),
        name: name.into(),
        kind: kind.into(),
        ..Default::default()
    };
    let kencho = app
        .store()
        .create_site(&sys, &site("KENCHO", "県庁", "honcho"))
        .await
        .expect("site")
        .id;
    let tosu = app
        .store()
        .create_site(&sys, &site("HOFUKU-TOSU", "鳥栖保健福祉事務所", "hofuku"))
        .await
        .expect("site")
        .id;
    let term = |site: i64, host: &str, kind: &str| TerminalInput {
        site_id: Some(site),
        hostname: host.into(),
        kind: kind.into(),
        ..Default::default()
    };
    let mut ids = Vec::new();
    for (s, h, k) in [
        (kencho, "jk-kencho-rep01", "representative"),
        (kencho, "jk-kencho-biz01", "business"),
        (tosu, "jk-tosu-biz01", "business"),
    ] {
        ids.push(
            app.store()
                .create_terminal(&sys, &term(s, h, k))
                .await
                .expect("terminal")
                .id,
        );
    }
    Fleet {
        kencho,
        tosu,
        rep: ids[0],
        biz: ids[1],
        tosu_pc: ids[2],
    }
}

async fn contract(app: &TestApp) -> i64 {
    let se = app
        .store()
        .user_by_name("se")
        .await
        .expect("q")
        .expect("se")
        .id;
    app.store()
        .create_contract(
            &Actor::system("test"),
            &ContractInput {
                name: "住民基本台帳ネットワークシステム運用支援SE業務委託".into(),
                number: "R8-情-001".into(),
                term_start: "令和8年4月1日".into(),
                term_end: "令和9年3月31日".into(),
                contractor: "株式会社サンプル".into(),
                staff_ids: vec![se],
                ..Default::default()
            },
        )
        .await
        .expect("contract")
        .id
}

/// The id in a `/requests/{id}?ok=saved` (or `/consultations/…`) redirect.
fn id_from(r: &Resp, base: &str) -> i64 {
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let loc = r.location();
    let rest = loc
        .strip_prefix(base)
        .unwrap_or_else(|| panic!("redirect to {loc}"));
    let id = rest.split(['?', '#']).next().unwrap_or("");
    assert!(loc.contains("ok=saved"), "{loc}");
    id.parse().unwrap_or_else(|_| panic!("id in {loc}"))
}

async fn file(staff: &Client, title: &str, extra: &[(&str, &str)]) -> i64 {
    // `extra` replaces a default of the same name.
    let mut fields: Vec<(&str, &str)> = [
        ("title", title),
        ("category", "antivirus_update"),
        ("description", "定義ファイルを最新版に更新してください。"),
    ]
    .into_iter()
    .filter(|(k, _)| !extra.iter().any(|(e, _)| e == k))
    .collect();
    fields.extend_from_slice(extra);
    let r = staff.post_form("/requests", &fields).await;
    id_from(&r, "/requests/")
}

async fn transition(c: &Client, id: i64, action: &str, comment: &str, date: &str) -> Resp {
    c.post_form(
        &format!("/requests/{id}/transitions"),
        &[
            ("action", action),
            ("comment", comment),
            ("planned_date", date),
        ],
    )
    .await
}

async fn status_of(app: &TestApp, id: i64) -> String {
    app.store()
        .request(id, jst_today())
        .await
        .expect("request")
        .request
        .status
}

fn header(r: &Resp, name: &str) -> String {
    r.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// The text of the timeline table.
fn timeline(html: &str) -> String {
    let start = html.find("id=\"timeline\"").expect("timeline table");
    let end = html[start..].find("</table>").expect("end of timeline") + start;
    html[start..end].to_string()
}

#[tokio::test]
async fn a_request_from_filing_to_confirmation() {
    let app = TestApp::new().await;
    let f = fleet(&app).await;
    let staff = app.login("staff").await;
    let se = app.login("se").await;

    // The form lists every site and terminal, the representative terminal marked.
    let r = staff.get("/requests/new").await;
    assert_eq!(r.status, StatusCode::OK);
    let html = r.text();
    for want in [
        "jk-kencho-rep01",
        "jk-tosu-biz01",
        "代表端末",
        "鳥栖保健福祉事務所",
        "ウイルス対策ソフトの更新",
        "type=\"date\"",
    ] {
        assert!(html.contains(want), "{want} missing");
    }
    assert!(!html.contains("style="), "no inline styles");

    // File it, with a 和暦 wished date (a month from today: a date before today is refused).
    let wished = unyo_domain::wareki::format_long(jst_today() + chrono::Duration::days(30));
    let (kencho, rep, biz) = (f.kencho.to_string(), f.rep.to_string(), f.biz.to_string());
    let r = staff
        .post_form(
            "/requests",
            &[
                ("title", "業務アプリ更新版のインストール"),
                ("category", "app_install"),
                ("site_ids", &kencho),
                ("terminal_ids", &rep),
                ("terminal_ids", &biz),
                ("wished_date", &wished),
                (
                    "description",
                    "代表端末と業務端末に更新版を入れてください。\n手順書は別途送付します。",
                ),
            ],
        )
        .await;
    let id = id_from(&r, "/requests/");
    let page = staff.get(&r.location()).await.text();
    assert!(page.contains("保存しました"), "{page}");
    assert!(page.contains("業務アプリ更新版のインストール"));
    assert!(page.contains(&wished), "wished date in 和暦");
    assert!(page.contains("①代表端末に係る運用支援"), "clause ① shown");
    assert!(page.contains("手順書は別途送付します。"));
    assert!(page.contains("<br>"), "line breaks kept");
    // Staff may withdraw their own request; they cannot accept.
    assert!(page.contains("value=\"withdraw\""));
    assert!(!page.contains("value=\"accept\""));

    // The SE accepts with a planned date, starts and reports the result.
    let page = se.get(&format!("/requests/{id}")).await.text();
    assert!(page.contains("value=\"accept\""), "SE is offered 受付");
    assert!(!page.contains("value=\"withdraw\""));
    let r = transition(&se, id, "accept", "", "").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("受付には対応予定日を入力してください"));
    assert_eq!(status_of(&app, id).await, "requested", "nothing changed");
    let r = transition(&se, id, "accept", "5/12 午後に伺います。", "2026-05-12").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(r.location(), format!("/requests/{id}?ok=saved"));
    let r = transition(&se, id, "start", "", "").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let r = transition(&se, id, "complete", "  ", "").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(
        html.contains("完了報告には対応結果を入力してください"),
        "{html}"
    );
    assert!(html.contains("aria-invalid=\"true\""));
    assert!(
        html.contains("href=\"#comment-complete\""),
        "summary links the field"
    );
    assert_eq!(status_of(&app, id).await, "in_progress");
    let r = transition(
        &se,
        id,
        "complete",
        "2台とも更新版 3.2.1 を導入し、起動を確認。",
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());

    // The SE may not confirm their own work: 403, with the reason, and the status stays.
    let r = transition(&se, id, "confirm", "", "").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let html = r.text();
    assert!(html.contains("この操作を行う権限がありません"), "{html}");
    assert!(
        html.contains("id=\"timeline\""),
        "the request page is shown again"
    );
    assert_eq!(status_of(&app, id).await, "completed");

    // Staff confirm.
    let page = staff.get(&format!("/requests/{id}")).await.text();
    assert!(page.contains("value=\"confirm\"") && page.contains("value=\"return\""));
    let r = transition(&staff, id, "confirm", "確認しました。", "").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(status_of(&app, id).await, "confirmed");

    let page = staff.get(&format!("/requests/{id}")).await.text();
    assert!(page.contains("確認済"));
    assert!(
        page.contains("2台とも更新版 3.2.1 を導入し、起動を確認。"),
        "result shown"
    );
    assert!(page.contains("現在の状態では、この役割で行える操作はありません"));
    let t = timeline(&page);
    let steps = ["要請", "受付", "対応開始", "完了報告", "確認"];
    let mut at = 0;
    for s in steps {
        let pos = t[at..]
            .find(&format!("<td>{s}</td>"))
            .unwrap_or_else(|| panic!("{s} missing or out of order in {t}"));
        at += pos + 1;
    }
    for want in [
        "要請 → 受付",
        "受付 → 対応中",
        "対応中 → 完了",
        "完了 → 確認済",
        "令和8年5月12日",
        "5/12 午後に伺います。",
        "se さん",
        "staff さん",
    ] {
        assert!(t.contains(want), "{want} missing in timeline {t}");
    }
    // Each step is audited.
    let audit = app
        .store()
        .audit_log(&AuditQuery {
            action: Some("request.transition".into()),
            ..Default::default()
        })
        .await
        .expect("audit");
    assert_eq!(audit.total, 4);
}

#[tokio::test]
async fn a_request_sent_back_and_resumed() {
    let app = TestApp::new().await;
    let staff = app.login("staff").await;
    let se = app.login("se").await;
    let id = file(&staff, "疎通確認の再実施", &[]).await;
    for (a, c, d) in [
        ("accept", "", "2026-06-01"),
        ("start", "", ""),
        ("complete", "実施しました。", ""),
    ] {
        let r = transition(&se, id, a, c, d).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{a}: {}", r.text());
    }
    // A reason is required.
    let r = transition(&staff, id, "return", "", "").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("差戻しの理由を入力してください"));
    assert_eq!(status_of(&app, id).await, "completed");
    let r = transition(&staff, id, "return", "鳥栖の結果が添付されていません。", "").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(status_of(&app, id).await, "returned");
    let page = se.get(&format!("/requests/{id}")).await.text();
    assert!(page.contains("差戻し"));
    assert!(page.contains("鳥栖の結果が添付されていません。"));
    assert!(timeline(&page).contains("完了 → 差戻し"));
    assert!(page.contains("value=\"start\""), "the SE may resume");
    let r = transition(&se, id, "start", "再対応します。", "").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(status_of(&app, id).await, "in_progress");
    assert!(timeline(&se.get(&format!("/requests/{id}")).await.text()).contains("差戻し → 対応中"));
}

#[tokio::test]
async fn illegal_and_forged_transitions_are_refused() {
    let app = TestApp::new().await;
    let staff = app.login("staff").await;
    let id = file(&staff, "業務端末のアップデート", &[]).await;

    // Confirming a request that is only 要請: 409, the domain's message, the page again, nothing changes.
    let r = transition(&staff, id, "confirm", "", "").await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let html = r.text();
    assert!(
        html.contains("「要請」の要請に「確認」はできません。"),
        "{html}"
    );
    assert!(html.contains("role=\"alert\""));
    assert!(html.contains("id=\"timeline\""));
    assert_eq!(status_of(&app, id).await, "requested");

    // An unknown action.
    let r = transition(&staff, id, "fly", "", "").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("操作が正しくありません"));

    // Another member of staff may not withdraw someone else's request.
    let admin = app.login("admin").await;
    let other = app
        .store()
        .create_request(
            &app.store()
                .user_by_name("admin")
                .await
                .expect("q")
                .expect("admin")
                .actor("test"),
            &RequestInput {
                title: "管理者の要請".into(),
                category: "other".into(),
                description: "x".into(),
                ..Default::default()
            },
        )
        .await
        .expect("request")
        .id;
    let page = staff.get(&format!("/requests/{other}")).await.text();
    assert!(!page.contains("value=\"withdraw\""), "not offered");
    let r = transition(&staff, other, "withdraw", "", "").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(status_of(&app, other).await, "requested");

    // The requester may withdraw; then nothing is possible any more.
    let r = transition(&staff, id, "withdraw", "不要になりました。", "").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = transition(&admin, id, "accept", "", "2026-05-01").await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(
        r.text()
            .contains("「取下げ」の要請に「受付」はできません。")
    );

    // No transition at all without the CSRF token.
    let r = staff
        .post_form(
            &format!("/requests/{other}/transitions"),
            &[("_csrf", "wrong"), ("action", "withdraw")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(status_of(&app, other).await, "requested");
}

#[tokio::test]
async fn roles_see_and_do_only_what_they_may() {
    let app = TestApp::new().await;
    let staff = app.login("staff").await;
    let id = file(&staff, "権限確認", &[]).await;
    let auditor = app.login("auditor").await;
    let se = app.login("se").await;

    // The auditor reads but files nothing, moves nothing and uploads nothing.
    assert_eq!(auditor.get("/requests").await.status, StatusCode::OK);
    assert_eq!(
        auditor.get(&format!("/requests/{id}")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        auditor.get("/requests/new").await.status,
        StatusCode::FORBIDDEN
    );
    let r = auditor
        .post_form(
            "/requests",
            &[
                ("title", "監査"),
                ("category", "other"),
                ("description", "x"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let page = auditor.get(&format!("/requests/{id}")).await.text();
    assert!(!page.contains("/transitions\""), "no transition forms");
    assert!(
        !page.contains("enctype=\"multipart/form-data\""),
        "no upload form"
    );
    assert!(!page.contains("/consultations/new"), "no consultation link");
    assert!(
        !auditor
            .get("/requests")
            .await
            .text()
            .contains("/requests/new")
    );
    let r = transition(&auditor, id, "accept", "", "2026-05-01").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = auditor
        .post_multipart(
            &format!("/requests/{id}/attachments"),
            &[],
            ("file", "a.png", PNG),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        auditor.get("/consultations/new").await.status,
        StatusCode::FORBIDDEN
    );

    // The SE does not file requests.
    assert_eq!(se.get("/requests/new").await.status, StatusCode::FORBIDDEN);
    assert!(
        !se.get("/requests")
            .await
            .text()
            .contains("href=\"/requests/new\"")
    );
    assert!(
        staff
            .get("/requests")
            .await
            .text()
            .contains("href=\"/requests/new\"")
    );

    // Not logged in: to the login page.
    let r = app.anonymous().get(&format!("/requests/{id}")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.location().starts_with("/login"));

    // Unknown or malformed ids.
    assert_eq!(
        staff.get("/requests/999999").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        staff.get("/requests/abc").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        staff.get("/attachments/999999").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        staff.get("/consultations/999999").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        transition(&staff, 999_999, "withdraw", "", "").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn filing_errors_are_shown_and_nothing_is_saved() {
    let app = TestApp::new().await;
    let f = fleet(&app).await;
    let staff = app.login("staff").await;

    // Missing fields and a bad date.
    let r = staff
        .post_form(
            "/requests",
            &[
                ("title", ""),
                ("category", ""),
                ("wished_date", "来週"),
                ("description", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    for want in [
        "件名を入力してください",
        "作業種別を選択してください",
        "希望日: 日付の形式が正しくありません",
        "内容を入力してください",
        "id=\"error-summary\"",
        "href=\"#title\"",
    ] {
        assert!(html.contains(want), "{want} missing: {html}");
    }

    // A 個人番号 in the description is refused (R17); what was typed comes back.
    let r = staff
        .post_form(
            "/requests",
            &[
                ("title", "照会"),
                ("category", "technical_support"),
                ("description", "個人番号 123456789018 の住民について"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(
        html.contains("個人番号と思われる12桁の番号が含まれています"),
        "{html}"
    );
    assert!(html.contains("value=\"照会\""), "typed title kept");
    // The refusal is audited (R17): who, where and what kind — never the number.
    let refused = app
        .store()
        .audit_log(&unyo_store::audit::AuditQuery {
            action: Some("pii.refused".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .items;
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].actor, "staff");
    assert!(refused[0].details.contains("\"path\":\"/requests\""));
    assert!(refused[0].details.contains("\"my_number\":1"));
    assert!(!refused[0].details.contains("123456789018"));

    // A terminal that is not at the chosen site; the ticks are kept.
    let (tosu, rep) = (f.tosu.to_string(), f.rep.to_string());
    let r = staff
        .post_form(
            "/requests",
            &[
                ("title", "場所違い"),
                ("category", "remote_update"),
                ("site_ids", &tosu),
                ("terminal_ids", &rep),
                ("description", "x"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let html = r.text();
    assert!(
        html.contains(&format!(
            "id=\"terminal-{rep}\" name=\"terminal_ids\" value=\"{rep}\" checked"
        )),
        "{html}"
    );

    // Script in a title is shown as text.
    let id = file(&staff, "<script>alert(1)</script>", &[]).await;
    let html = staff.get(&format!("/requests/{id}")).await.text();
    assert!(!html.contains("<script>alert(1)</script>"));
    assert!(html.contains("&lt;script&gt;") || html.contains("&#60;script&#62;"));

    let all = app
        .store()
        .requests(&Default::default(), jst_today())
        .await
        .expect("list");
    assert_eq!(all.total, 1, "only the last, valid request was saved");
    let _ = f.tosu_pc;
}

#[tokio::test]
async fn attachments_are_sniffed_served_as_downloads_and_audited() {
    let app = TestApp::new().await;
    let staff = app.login("staff").await;
    let se = app.login("se").await;
    let id = file(&staff, "証跡の添付", &[]).await;
    let url = format!("/requests/{id}/attachments");

    // A PNG (whatever the browser claims its type is).
    let r = se
        .post_multipart(&url, &[], ("file", "作業結果.png", PNG))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(
        r.location()
            .starts_with(&format!("/requests/{id}?ok=saved"))
    );
    let atts = app
        .store()
        .attachments_of("request", id)
        .await
        .expect("list");
    assert_eq!(atts.len(), 1);
    let a = &atts[0];
    assert_eq!(a.content_type, "image/png");
    let page = staff.get(&format!("/requests/{id}")).await.text();
    assert!(page.contains("作業結果.png"));
    assert!(page.contains(&a.sha256[..12]), "SHA-256 prefix shown");
    assert!(page.contains(&format!("href=\"/attachments/{}\"", a.id)));
    assert!(page.contains("se さん"), "uploader");

    // Download: an attachment, never sniffed, never cached; the read is audited.
    let r = staff.get(&format!("/attachments/{}", a.id)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, PNG);
    assert_eq!(header(&r, "content-type"), "image/png");
    let cd = header(&r, "content-disposition");
    assert!(cd.starts_with("attachment;"), "{cd}");
    assert!(
        cd.contains("filename*=UTF-8''%E4%BD%9C%E6%A5%AD%E7%B5%90%E6%9E%9C.png"),
        "{cd}"
    );
    assert!(cd.contains("filename=\"attachment.png\""), "{cd}");
    assert_eq!(header(&r, "x-content-type-options"), "nosniff");
    assert_eq!(header(&r, "cache-control"), "no-store");
    let audit = app
        .store()
        .audit_log(&AuditQuery {
            action: Some("attachment.download".into()),
            ..Default::default()
        })
        .await
        .expect("audit");
    assert_eq!(audit.total, 1);
    assert_eq!(audit.items[0].actor, "staff");
    assert_eq!(audit.items[0].entity_id, a.id.to_string());

    // An executable named like a picture is refused in Japanese, with 422, and not stored.
    let r = se
        .post_multipart(
            &url,
            &[],
            ("file", "screenshot.png", b"MZ\x90\0\x03\0\0\0\x04\0"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(
        html.contains("このファイル形式は添付できません（PNG・JPEG・GIF・PDF・テキストのみ）。"),
        "{html}"
    );
    assert!(html.contains("id=\"err-file\""));
    // No file chosen.
    let r = se.post_multipart(&url, &[], ("file", "", b"")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("添付するファイルを選択してください"));
    assert_eq!(
        app.store()
            .attachments_of("request", id)
            .await
            .expect("list")
            .len(),
        1
    );

    // Text: UTF-8 is declared as such, CP932 goes out as bytes.
    let r = se
        .post_multipart(&url, &[], ("file", "log.txt", "正常終了\r\n".as_bytes()))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = se
        .post_multipart(&url, &[], ("file", "sjis.log", b"\x90\xB3\x8F\xED\r\n"))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let atts = app
        .store()
        .attachments_of("request", id)
        .await
        .expect("list");
    let r = se.get(&format!("/attachments/{}", atts[1].id)).await;
    assert_eq!(header(&r, "content-type"), "text/plain; charset=utf-8");
    let r = se.get(&format!("/attachments/{}", atts[2].id)).await;
    assert_eq!(header(&r, "content-type"), "application/octet-stream");
    assert!(header(&r, "content-disposition").starts_with("attachment;"));

    // Uploading to a request that does not exist.
    let r = se
        .post_multipart("/requests/999999/attachments", &[], ("file", "a.png", PNG))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_list_filters_counts_and_pages() {
    let app = TestApp::new().await;
    let f = fleet(&app).await;
    let staff = app.login("staff").await;
    let se = app.login("se").await;
    let (kencho, tosu) = (f.kencho.to_string(), f.tosu.to_string());

    let a = file(&staff, "県庁の定義更新", &[("site_ids", &kencho)]).await;
    let b = file(
        &staff,
        "鳥栖の疎通確認",
        &[("site_ids", &tosu), ("category", "connectivity_check")],
    )
    .await;
    // Overdue: received on paper long ago, wished soon after, and not done.
    let staff_actor = app
        .store()
        .user_by_name("staff")
        .await
        .expect("q")
        .expect("staff")
        .actor("127.0.0.1");
    let c = app
        .store()
        .create_request_on(
            &staff_actor,
            &RequestInput {
                title: "期限切れの要請".into(),
                category: "antivirus_update".into(),
                wished_date: "2020-01-06".into(),
                description: "定義ファイルを最新版に更新してください。".into(),
                ..Default::default()
            },
            chrono::NaiveDate::from_ymd_opt(2020, 1, 6).expect("day"),
        )
        .await
        .expect("paper request")
        .id;
    let r = transition(&se, a, "accept", "", "2099-01-01").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);

    let html = staff.get("/requests").await.text();
    assert!(html.contains("全3件中 1–3件"), "{html}");
    assert!(html.contains("すべて 3件"), "tab counts");
    assert!(html.contains("要請 2件"));
    assert!(html.contains("受付 1件"));
    assert!(
        html.contains("<span class=\"badge badge-warn\">期限超過</span>"),
        "overdue badge"
    );
    assert!(html.contains("鳥栖保健福祉事務所"), "target sites column");

    // By status: the tab is marked current.
    let html = staff.get("/requests?status=accepted").await.text();
    assert!(html.contains("県庁の定義更新"));
    assert!(!html.contains("鳥栖の疎通確認"));
    assert!(html.contains("aria-current=\"page\">受付 1件"), "{html}");
    // By category, by site, by assignee, by text, overdue only.
    let only = |html: &str, want: &str, not: &[&str]| {
        assert!(html.contains(want), "{want} missing");
        for n in not {
            assert!(!html.contains(n), "{n} should be filtered out");
        }
    };
    only(
        &staff
            .get("/requests?category=connectivity_check")
            .await
            .text(),
        "鳥栖の疎通確認",
        &["県庁の定義更新", "期限切れの要請"],
    );
    only(
        &staff.get(&format!("/requests?site_id={tosu}")).await.text(),
        "鳥栖の疎通確認",
        &["県庁の定義更新"],
    );
    let se_id = app
        .store()
        .user_by_name("se")
        .await
        .expect("q")
        .expect("se")
        .id;
    only(
        &staff
            .get(&format!("/requests?assignee_id={se_id}"))
            .await
            .text(),
        "県庁の定義更新",
        &["鳥栖の疎通確認", "期限切れの要請"],
    );
    only(
        &staff.get("/requests?q=%E7%96%8E%E9%80%9A").await.text(), // 疎通
        "鳥栖の疎通確認",
        &["県庁の定義更新"],
    );
    only(
        &staff.get("/requests?overdue=1").await.text(),
        "期限切れの要請",
        &["県庁の定義更新", "鳥栖の疎通確認"],
    );
    // Period (filed or wished) in 和暦 or ISO.
    only(
        &staff
            .get("/requests?from=2020-01-01&to=2020-01-31")
            .await
            .text(),
        "期限切れの要請",
        &["県庁の定義更新"],
    );
    let html = staff.get("/requests?from=%E3%81%82").await.text();
    assert!(html.contains("日付の形式が正しくありません"));

    // Open only hides withdrawn ones.
    let r = transition(&staff, b, "withdraw", "", "").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    only(
        &staff.get("/requests?open=1").await.text(),
        "県庁の定義更新",
        &["鳥栖の疎通確認"],
    );

    // The SE's own open work.
    let html = se.get("/requests/mine").await.text();
    only(
        &html,
        "県庁の定義更新",
        &["期限切れの要請", "鳥栖の疎通確認"],
    );
    assert_eq!(
        se.get("/requests?mine=1").await.location(),
        "/requests/mine"
    );

    // Paging: 22 more, 20 per page.
    for i in 0..22 {
        file(&staff, &format!("一括{i:02}"), &[]).await;
    }
    let html = staff.get("/requests?per_page=20").await.text();
    assert!(html.contains("全25件中 1–20件"), "{html}");
    assert!(html.contains("rel=\"next\""));
    let html = staff.get("/requests?per_page=20&page=2").await.text();
    assert!(html.contains("全25件中 21–25件"));
    assert!(html.contains("rel=\"prev\""));
    assert!(html.contains("期限切れの要請"), "oldest on the last page");
    let _ = c;
}

#[tokio::test]
async fn consultations_are_recorded_and_linked_to_requests() {
    let app = TestApp::new().await;
    let contract_id = contract(&app).await.to_string();
    let staff = app.login("staff").await;
    let first = file(&staff, "協議対象の要請", &[]).await;
    let second = file(&staff, "番号で指定する要請", &[]).await;
    let second_number = app
        .store()
        .request(second, jst_today())
        .await
        .expect("r")
        .request
        .number;

    // The request page links to a pre-filled form.
    let page = staff.get(&format!("/requests/{first}")).await.text();
    assert!(page.contains(&format!("href=\"/consultations/new?request_id={first}\"")));
    let form = staff
        .get(&format!("/consultations/new?request_id={first}"))
        .await
        .text();
    assert!(
        form.contains(&format!("name=\"request_ids\" value=\"{first}\" checked")),
        "{form}"
    );
    assert!(form.contains("住民基本台帳ネットワークシステム運用支援SE業務委託"));

    // Errors: missing topic, an unknown number; nothing saved.
    let r = staff
        .post_form(
            "/consultations",
            &[
                ("contract_id", &contract_id),
                ("held_on", "令和8年5月20日"),
                ("participants", "県 情報課 佐賀、受託者 保守"),
                ("topic", ""),
                ("agreed", "次回までに手順書を改訂する。"),
                ("request_numbers", "R8-9999"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(html.contains("協議事項を入力してください"), "{html}");
    assert!(html.contains("要請番号「R8-9999」の支援要請が見つかりません。"));
    assert!(
        html.contains("value=\"2026-05-20\""),
        "date kept as ISO for the date input"
    );
    assert!(
        app.store()
            .consultations(None, None, None)
            .await
            .expect("l")
            .is_empty()
    );

    // Saved, linked by checkbox and by number (full-width typed).
    let first_s = first.to_string();
    let typed = second_number.replace('-', "－");
    let r = staff
        .post_form(
            "/consultations",
            &[
                ("contract_id", &contract_id),
                ("held_on", "2026-05-20"),
                ("participants", "県 情報課 佐賀\n受託者 保守"),
                ("topic", "定義更新の手順について"),
                ("agreed", "次回までに手順書を改訂する。"),
                ("request_ids", &first_s),
                ("request_numbers", &typed),
            ],
        )
        .await;
    let cid = id_from(&r, "/consultations/");
    let html = staff.get(&r.location()).await.text();
    for want in [
        "保存しました",
        "令和8年5月20日",
        "定義更新の手順について",
        "次回までに手順書を改訂する。",
        "R8-情-001",
        "協議対象の要請",
        "番号で指定する要請",
        "staff さん",
    ] {
        assert!(html.contains(want), "{want} missing: {html}");
    }
    // Both requests link back.
    for rid in [first, second] {
        let page = staff.get(&format!("/requests/{rid}")).await.text();
        assert!(
            page.contains(&format!("href=\"/consultations/{cid}\"")),
            "request {rid}"
        );
    }
    // The list, filtered by date.
    let html = staff.get("/consultations").await.text();
    assert!(html.contains("定義更新の手順について"));
    assert!(html.contains("1件の協議記録"));
    let html = staff.get("/consultations?from=2026-06-01").await.text();
    assert!(!html.contains("定義更新の手順について"));
    // The SE records consultations too; the auditor does not.
    let se = app.login("se").await;
    assert_eq!(se.get("/consultations/new").await.status, StatusCode::OK);
    let auditor = app.login("auditor").await;
    let r = auditor
        .post_form(
            "/consultations",
            &[
                ("contract_id", &contract_id),
                ("held_on", "2026-05-20"),
                ("topic", "x"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(auditor.get("/consultations").await.status, StatusCode::OK);
}

#[tokio::test]
async fn pages_speak_english_too() {
    let app = TestApp::new().await;
    let staff = app.login("staff").await;
    let id = file(&staff, "English check", &[]).await;
    let mut en = staff.clone();
    en.cookie = format!("{}; unyo_lang=en", en.cookie);
    let html = en.get(&format!("/requests/{id}")).await.text();
    assert!(html.contains("Timeline"));
    assert!(html.contains("Withdraw"));
    assert!(!html.contains("??"), "every key exists");
    let html = en.get("/requests").await.text();
    assert!(html.contains("Support requests"));
    assert!(!html.contains("??"));
    let html = en.get("/consultations/new").await.text();
    assert!(!html.contains("??"));
}
