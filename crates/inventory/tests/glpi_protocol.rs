//! The GLPI Agent's protocol, codec level: the recorded requests of a real GLPI Agent 1.12
//! (`samples/glpi-agent-exchanges/`) decode, unyo's answers carry what the recorded answers carried, and
//! each answer is encoded the way the request's `Content-Type` asks.

use std::path::PathBuf;
use unyo_inventory::protocol::{
    AgentKind, CONTENT_TYPE_GZIP, CONTENT_TYPE_JSON, CONTENT_TYPE_OCS_REPLY, CONTENT_TYPE_XML,
    CONTENT_TYPE_ZLIB, GlpiContact, agent_software, decode_glpi_reply, encode_glpi_reply,
    encode_glpi_request, encode_reply_as,
};
use unyo_inventory::{
    AgentMessage, AgentRequest, BodyEncoding, GlpiMessage, GlpiReply, ParseError, ReplyEncoding,
    ServerReply, decode_request,
};

fn exchange(name: &str) -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/samples/glpi-agent-exchanges")
            .join(name),
    )
    .unwrap()
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/samples")
            .join(name),
    )
    .unwrap()
}

fn json(b: &[u8]) -> serde_json::Value {
    serde_json::from_slice(b).unwrap()
}

#[test]
fn recorded_prolog_decodes_and_is_answered_as_a_glpi_server() {
    let body = exchange("1-prolog.request.zlib");
    assert_eq!(body.len(), 136, "the recorded Content-Length");
    let (req, enc) = decode_request(Some(CONTENT_TYPE_ZLIB), &body).unwrap();
    assert_eq!(
        req,
        AgentRequest::Xml(AgentMessage::Prolog {
            device_id: "vm-2026-12-07-06-57-59".into()
        })
    );
    let reply = encode_glpi_reply(
        &GlpiReply::ok(),
        ReplyEncoding::for_request(Some(CONTENT_TYPE_ZLIB), enc),
    );
    assert_eq!(reply.content_type, CONTENT_TYPE_ZLIB);
    let got = decode_glpi_reply(Some(reply.content_type), &reply.body).unwrap();
    assert_eq!(got, json(&exchange("1-prolog.response.json")));
}

#[test]
fn recorded_contact_decodes_and_is_answered_with_the_inventory_task() {
    let body = exchange("2-contact.request.zlib");
    assert_eq!(body.len(), 142, "the recorded Content-Length");
    let (req, enc) = decode_request(Some(CONTENT_TYPE_ZLIB), &body).unwrap();
    let AgentRequest::Json(GlpiMessage::Contact(c)) = req else {
        panic!("{req:?}")
    };
    assert_eq!(
        c,
        GlpiContact {
            device_id: "vm-2026-12-07-06-57-52".into(),
            agent_name: Some("GLPI-Agent".into()),
            agent_version: Some("1.12-dev".into()),
            installed_tasks: vec!["inventory".into()],
            enabled_tasks: vec!["inventory".into()],
        }
    );
    let reply = encode_glpi_reply(
        &GlpiReply::contact(&c),
        ReplyEncoding::for_request(Some(CONTENT_TYPE_ZLIB), enc),
    );
    let got = decode_glpi_reply(Some(reply.content_type), &reply.body).unwrap();
    // Nothing to disable for an agent with only the inventory task: exactly the recorded answer.
    assert_eq!(got, json(&exchange("2-contact.response.json")));

    // Tasks unyo does not run are disabled.
    let c = GlpiContact {
        installed_tasks: vec!["inventory".into(), "deploy".into(), "netdiscovery".into()],
        enabled_tasks: vec!["inventory".into(), "deploy".into()],
        ..c
    };
    let v = json(GlpiReply::contact(&c).to_json().as_bytes());
    assert_eq!(v["disabled"], serde_json::json!(["deploy", "netdiscovery"]));
    assert_eq!(v["tasks"]["inventory"]["server"], "glpi");
    assert_eq!(v["expiration"], 24);
}

/// The recorded inventory's outline with a sample's content: what the agent POSTs.
fn inventory_message(content_from: &str, partial: bool) -> Vec<u8> {
    let sample = json(&sample(content_from));
    let mut msg = serde_json::json!({
        "action": "inventory",
        "itemtype": "Computer",
        "deviceid": sample["deviceid"],
        "content": sample["content"],
    });
    if partial {
        msg["partial"] = serde_json::json!(true);
    }
    serde_json::to_vec(&msg).unwrap()
}

#[test]
fn inventories_decode_in_every_encoding() {
    let outline = json(&exchange("3-inventory.request.outline.json"));
    assert_eq!(outline["action"], "inventory");
    for enc in [BodyEncoding::Zlib, BodyEncoding::Gzip, BodyEncoding::Plain] {
        let (ct, body) =
            encode_glpi_request(&inventory_message("glpi-computer_1.json", false), enc);
        let (req, got_enc) = decode_request(Some(ct), &body).unwrap();
        assert_eq!(got_enc, enc);
        let AgentRequest::Json(GlpiMessage::Inventory(s)) = req else {
            panic!("{req:?}")
        };
        assert_eq!(s.hostname.as_deref(), Some("glpixps"));
        assert_eq!(s.device_id.as_deref(), Some("glpixps-2018-07-09-09-07-13"));
        assert!(!s.partial);
        assert!(!s.software.is_empty());
        let reply = encode_glpi_reply(&GlpiReply::ok(), ReplyEncoding::for_request(Some(ct), enc));
        assert_eq!(reply.content_type, ct);
        assert_eq!(
            decode_glpi_reply(Some(reply.content_type), &reply.body).unwrap()["status"],
            "ok"
        );
    }
    let (ct, body) = encode_glpi_request(
        &inventory_message("glpi-computer_1_partial_softs.json", true),
        BodyEncoding::Zlib,
    );
    let (AgentRequest::Json(GlpiMessage::Inventory(s)), _) =
        decode_request(Some(ct), &body).unwrap()
    else {
        panic!("not an inventory")
    };
    assert!(s.partial);
}

#[test]
fn refused_messages_have_both_languages() {
    let refuse = |body: &[u8]| decode_request(Some(CONTENT_TYPE_JSON), body).unwrap_err();
    assert_eq!(
        refuse(br#"{"action":"netinventory","deviceid":"d"}"#),
        ParseError::UnsupportedAction("netinventory".into())
    );
    assert_eq!(refuse(br#"{"deviceid":"d"}"#), ParseError::MissingAction);
    assert_eq!(
        refuse(br#"{"action":"contact"}"#),
        ParseError::MissingDeviceId
    );
    assert_eq!(
        refuse(br#"{"action":"inventory","deviceid":"d"}"#),
        ParseError::MissingContent
    );
    let e = refuse(br#"{"action":"inventory","deviceid":"d","content":{"softwares":"x"}}"#);
    assert!(
        matches!(&e, ParseError::WrongType { path, .. } if path == "content.softwares"),
        "{e:?}"
    );
    let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
    assert!(matches!(
        refuse(deep.as_bytes()),
        ParseError::TooDeep { .. }
    ));
    let v = json(GlpiReply::refused(&e).to_json().as_bytes());
    assert_eq!(v["status"], "error");
    let msg = v["message"].as_str().unwrap();
    assert!(
        msg.contains("項目「content.softwares」の型がスキーマと違います")
            && msg.contains("inventory schema"),
        "{msg}"
    );
}

#[test]
fn replies_follow_the_request_content_type() {
    let xml = ServerReply::InventoryAccepted;
    let cases = [
        (
            Some(CONTENT_TYPE_ZLIB),
            BodyEncoding::Zlib,
            CONTENT_TYPE_ZLIB,
        ),
        (
            Some(CONTENT_TYPE_GZIP),
            BodyEncoding::Gzip,
            CONTENT_TYPE_GZIP,
        ),
        (
            Some("application/x-compress"),
            BodyEncoding::Zlib,
            CONTENT_TYPE_OCS_REPLY,
        ),
        (
            Some(CONTENT_TYPE_XML),
            BodyEncoding::Plain,
            CONTENT_TYPE_XML,
        ),
        (
            Some(CONTENT_TYPE_JSON),
            BodyEncoding::Plain,
            CONTENT_TYPE_XML,
        ),
        (None, BodyEncoding::Zlib, CONTENT_TYPE_OCS_REPLY),
        (None, BodyEncoding::Plain, CONTENT_TYPE_XML),
    ];
    for (ct, body, want) in cases {
        let r = encode_reply_as(&xml, ReplyEncoding::for_request(ct, body));
        assert_eq!(r.content_type, want, "{ct:?}");
        // The FusionInventory agent reads any of them.
        assert_eq!(
            unyo_inventory::protocol::decode_server_reply(&r.body).unwrap(),
            xml
        );
    }
    // JSON answers to plain requests are typed as JSON, which the GLPI Agent reads as is.
    let r = encode_glpi_reply(&GlpiReply::ok(), ReplyEncoding::Plain);
    assert_eq!(r.content_type, CONTENT_TYPE_JSON);
    assert!(decode_glpi_reply(Some(r.content_type), &r.body).is_ok());
    // What unyo answered before: zlib under `application/x-compress`, which the GLPI Agent refuses.
    let r = encode_glpi_reply(&GlpiReply::ok(), ReplyEncoding::Ocs(BodyEncoding::Zlib));
    assert!(decode_glpi_reply(Some(r.content_type), &r.body).is_err());
}

#[test]
fn agent_software_from_the_user_agent() {
    assert_eq!(
        agent_software(Some("GLPI-Agent_v1.12-dev")),
        (AgentKind::Glpi, Some("1.12-dev".into()))
    );
    assert_eq!(
        agent_software(Some("FusionInventory-Agent_v2.6-3")),
        (AgentKind::FusionInventory, Some("2.6-3".into()))
    );
    assert_eq!(agent_software(Some("curl/8.0")), (AgentKind::Other, None));
    assert_eq!(agent_software(None), (AgentKind::Other, None));
}
