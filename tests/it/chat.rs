//! The hotline's web chat over real WebSockets: a visitor and an advocate talk, the
//! visitor's connection drops and comes back, and nothing is lost or doubled; floods,
//! cross-site sockets and off-duty advocates are refused; the console hears at once.

use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

use crate::helpers::{Backend, Session, TestApp};
use crate::on_both_databases;
use atip::kernel::auth::Role;

on_both_databases! {
    a_chat_loses_and_doubles_nothing_across_a_dropped_connection;
    the_chat_refuses_floods_cross_site_sockets_and_advocates_off_duty;
    the_console_hears_of_a_waiting_chat_at_once;
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(
    app: &TestApp,
    path: &str,
    headers: &[(&str, &str)],
) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    let url = format!("{}{path}", app.base.replacen("http", "ws", 1));
    let mut request = url.into_client_request().unwrap();
    for (name, value) in headers {
        let name: reqwest::header::HeaderName = name.parse().unwrap();
        request.headers_mut().insert(name, value.parse().unwrap());
    }
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(socket, _)| socket)
}

async fn visitor(app: &TestApp) -> Socket {
    connect(app, "/hotline/chat/socket", &[]).await.unwrap()
}

async fn advocate_socket(app: &TestApp, who: &Session, chat: &str) -> Socket {
    connect(
        app,
        &format!("/hotline/chats/{chat}/socket"),
        &[("cookie", &who.cookie)],
    )
    .await
    .unwrap()
}

async fn send(socket: &mut Socket, frame: Value) {
    socket
        .send(Message::Text(frame.to_string().into()))
        .await
        .unwrap();
}

/// The next frame the server sends (pings skipped).
async fn next(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("the server sent nothing for 10 seconds")
            .expect("the socket closed")
            .unwrap();
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

/// Frames until one matches, all of them returned (the match last).
async fn until(socket: &mut Socket, done: impl Fn(&Value) -> bool) -> Vec<Value> {
    let mut seen = Vec::new();
    loop {
        let frame = next(socket).await;
        let stop = done(&frame);
        seen.push(frame);
        if stop {
            return seen;
        }
    }
}

fn is(kind: &str) -> impl Fn(&Value) -> bool + '_ {
    move |f| f["type"] == kind
}

fn status_is(status: &str) -> impl Fn(&Value) -> bool + '_ {
    move |f| f["type"] == "status" && f["status"] == status
}

fn messages(frames: &[Value]) -> Vec<(i64, String)> {
    frames
        .iter()
        .filter(|f| f["type"] == "message")
        .map(|f| {
            (
                f["seq"].as_i64().unwrap(),
                f["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn user_id(app: &TestApp, who: &Session) -> String {
    let me: Value = app.get_as(who, "/api/v1/me").await.json().await.unwrap();
    me["id"].as_str().unwrap().to_owned()
}

/// Puts the advocate on a shift from an hour ago to eight hours from now.
pub(crate) async fn on_duty(app: &TestApp, advocate: &Session) {
    let supervisor = app.signed_in(Role::HotlineSupervisor, None).await;
    let now = jiff::Timestamp::now();
    let body = json!({
        "user_id": user_id(app, advocate).await,
        "role": "advocate",
        "starts_at": (now - jiff::SignedDuration::from_hours(1)).to_string(),
        "ends_at": (now + jiff::SignedDuration::from_hours(8)).to_string(),
    });
    let response = app
        .client
        .post(app.url("/api/v1/hotline/shifts"))
        .header("cookie", &supervisor.cookie)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
}

async fn post_form(
    app: &TestApp,
    who: &Session,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = vec![("csrf", who.csrf.as_str())];
    form.extend_from_slice(fields);
    app.client
        .post(app.url(path))
        .header("cookie", &who.cookie)
        .form(&form)
        .send()
        .await
        .unwrap()
}

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

/// The chats waiting in the console's queue, by the accept forms it shows.
async fn queue(app: &TestApp, who: &Session) -> Vec<String> {
    let html = app
        .get_as(who, "/hotline/console/panels")
        .await
        .text()
        .await
        .unwrap();
    html.split("action=\"/hotline/chats/")
        .skip(1)
        .filter_map(|rest| rest.split_once("/accept\"").map(|(id, _)| id.to_owned()))
        .collect()
}

async fn count(app: &TestApp, sql: &str, chat: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(chat)
        .fetch_one(app.db.reader())
        .await
        .unwrap()
}

async fn a_chat_loses_and_doubles_nothing_across_a_dropped_connection(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let advocate = app.signed_in(Role::HotlineAdvocate, None).await;
    on_duty(&app, &advocate).await;

    // A visitor chooses Spanish and writes while waiting.
    let mut v = visitor(&app).await;
    send(&mut v, json!({"type": "start", "language": "es"})).await;
    let started = next(&mut v).await;
    assert_eq!(started["type"], "started");
    let token = started["token"].as_str().unwrap().to_owned();
    let return_code = started["return_code"].as_str().unwrap().to_owned();
    until(&mut v, status_is("waiting")).await;
    send(
        &mut v,
        json!({"type": "send", "id": "v-1", "text": "Hola, necesito ayuda"}),
    )
    .await;
    let ack = until(&mut v, is("ack")).await.pop().unwrap();
    assert_eq!(
        (ack["id"].as_str(), ack["seq"].as_i64()),
        (Some("v-1"), Some(1))
    );

    // The advocate accepts it from the console and opens it.
    let waiting = queue(&app, &advocate).await;
    assert_eq!(waiting.len(), 1);
    let chat = waiting[0].clone();
    let accepted = post_form(
        &app,
        &advocate,
        &format!("/hotline/chats/{chat}/accept"),
        &[],
    )
    .await;
    assert_eq!(accepted.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&accepted), format!("/hotline/chats/{chat}"));
    assert!(queue(&app, &advocate).await.is_empty());
    let page = app
        .get_as(&advocate, &format!("/hotline/chats/{chat}"))
        .await;
    assert_eq!(page.status(), StatusCode::OK);
    let mut a = advocate_socket(&app, &advocate, &chat).await;
    send(&mut a, json!({"type": "join", "after": 0})).await;
    let joined = until(&mut a, status_is("active")).await;
    assert_eq!(
        messages(&joined),
        vec![(1, "Hola, necesito ayuda".to_owned())]
    );
    until(&mut v, status_is("active")).await;

    send(
        &mut a,
        json!({"type": "send", "id": "a-1", "text": "Estoy aquí"}),
    )
    .await;
    let seen = until(&mut v, is("message")).await;
    assert_eq!(messages(&seen), vec![(2, "Estoy aquí".to_owned())]);

    // The visitor's connection drops; the advocate writes twice meanwhile.
    drop(v);
    for (id, text) in [
        ("a-2", "¿Está a salvo ahora?"),
        ("a-3", "Puedo darle un número"),
    ] {
        send(&mut a, json!({"type": "send", "id": id, "text": text})).await;
        until(&mut a, is("ack")).await;
    }

    // It comes back with what it had (up to 2) and sends again, twice, a message whose
    // acknowledgement it never got.
    let mut v = visitor(&app).await;
    send(
        &mut v,
        json!({"type": "resume", "token": token, "after": 2}),
    )
    .await;
    for _ in 0..2 {
        send(
            &mut v,
            json!({"type": "send", "id": "v-2", "text": "Sí, gracias"}),
        )
        .await;
    }
    let mut frames = Vec::new();
    while frames
        .iter()
        .filter(|f: &&Value| f["type"] == "ack")
        .count()
        < 2
        || messages(&frames).len() < 3
    {
        frames.push(next(&mut v).await);
    }
    assert_eq!(
        messages(&frames),
        vec![
            (3, "¿Está a salvo ahora?".to_owned()),
            (4, "Puedo darle un número".to_owned()),
            (5, "Sí, gracias".to_owned()),
        ]
    );
    for ack in frames.iter().filter(|f| f["type"] == "ack") {
        assert_eq!(
            (ack["id"].as_str(), ack["seq"].as_i64()),
            (Some("v-2"), Some(5))
        );
    }
    // The advocate's page shows its own messages as they were kept, then the
    // visitor's, each once.
    let seen = until(&mut a, |f| f["seq"] == 5).await;
    let seqs: Vec<i64> = messages(&seen)
        .into_iter()
        .map(|(seq, _)| seq)
        .filter(|s| *s > 2)
        .collect();
    assert_eq!(seqs, vec![3, 4, 5]);
    let stored = count(
        &app,
        "SELECT COUNT(*) FROM hotline_chat_messages WHERE chat_id = $1",
        &chat,
    )
    .await;
    assert_eq!(stored, 5);
    let plain = count(
        &app,
        "SELECT COUNT(*) FROM hotline_chat_messages WHERE chat_id = $1 AND body LIKE '%gracias%'",
        &chat,
    )
    .await;
    assert_eq!(plain, 0, "message bodies are stored sealed");

    // Saving it needs who contacted us; then it becomes one web-chat contact.
    let refused = post_form(
        &app,
        &advocate,
        &format!("/hotline/chats/{chat}/close"),
        &[("reasons", "crisis")],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let fields = [
        ("caller_type", "potential-victim"),
        ("reasons", "crisis"),
        ("reasons", "referral-request"),
        ("outcome", "information-given"),
        ("caller_state", "TX"),
        ("new_case", "labor"),
    ];
    let saved = post_form(
        &app,
        &advocate,
        &format!("/hotline/chats/{chat}/close"),
        &fields,
    )
    .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let contact = location(&saved)
        .strip_prefix("/hotline/contacts/")
        .unwrap()
        .to_owned();
    until(&mut v, status_is("closed")).await;
    let again = post_form(
        &app,
        &advocate,
        &format!("/hotline/chats/{chat}/close"),
        &fields,
    )
    .await;
    assert_eq!(location(&again), format!("/hotline/contacts/{contact}"));
    let view: Value = app
        .get_as(&advocate, &format!("/api/v1/hotline/contacts/{contact}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["channel"], "web-chat");
    assert_eq!(view["language"], "es");
    assert!(view["case_id"].is_string());
    let narrative = view["narrative"].as_str().unwrap();
    assert!(
        narrative.contains("Visitor: Hola, necesito ayuda"),
        "{narrative}"
    );
    assert!(
        narrative.contains("Advocate: Puedo darle un número"),
        "{narrative}"
    );
    assert_eq!(narrative.lines().count(), 5);
    // Supervisors see today's volume by channel and reason; advocates do not.
    let supervisor = app.signed_in(Role::HotlineSupervisor, None).await;
    let panels = app
        .get_as(&supervisor, "/hotline/console/panels")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        panels.contains("Today&#39;s contacts (1)") || panels.contains("Today's contacts (1)"),
        "{panels}"
    );
    assert!(panels.contains("Web chat") && panels.contains("Referral request"));
    let mine = app
        .get_as(&advocate, "/hotline/console/panels")
        .await
        .text()
        .await
        .unwrap();
    assert!(!mine.contains("contacts (1)"));
    // The closed chat takes nothing more, and its token opens nothing.
    send(
        &mut v,
        json!({"type": "send", "id": "v-3", "text": "¿Hola?"}),
    )
    .await;
    let refused = until(&mut v, is("refused")).await.pop().unwrap();
    assert_eq!(refused["reason"], "ended");
    let mut late = visitor(&app).await;
    send(
        &mut late,
        json!({"type": "resume", "token": token, "after": 0}),
    )
    .await;
    assert_eq!(next(&mut late).await["reason"], "unknown-chat");

    // Days later the visitor comes back with the return code (typed in lower case):
    // the advocate is shown the earlier conversation and its case. A made-up code
    // links nothing.
    for (given, linked) in [
        (return_code.to_lowercase(), true),
        ("ZZZZ-ZZZZ".to_owned(), false),
    ] {
        let mut back = visitor(&app).await;
        send(
            &mut back,
            json!({"type": "start", "language": "es", "return_code": given}),
        )
        .await;
        assert_eq!(next(&mut back).await["type"], "started");
        let again = queue(&app, &advocate).await.pop().unwrap();
        post_form(
            &app,
            &advocate,
            &format!("/hotline/chats/{again}/accept"),
            &[],
        )
        .await;
        let page = app
            .get_as(&advocate, &format!("/hotline/chats/{again}"))
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(
            page.contains("gave the return code of an earlier chat"),
            linked
        );
        assert_eq!(
            page.contains(&format!("/hotline/contacts/{contact}")),
            linked
        );
        assert_eq!(page.contains(view["case_id"].as_str().unwrap()), linked);
    }
}

async fn the_chat_refuses_floods_cross_site_sockets_and_advocates_off_duty(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // Another site's page cannot open a socket with a visitor's or an advocate's cookies.
    let refused = connect(
        &app,
        "/hotline/chat/socket",
        &[("origin", "https://attacker.example")],
    )
    .await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), StatusCode::FORBIDDEN.as_u16());
        }
        other => panic!(
            "a cross-site socket was not refused: {:?}",
            other.map(|_| ())
        ),
    }

    let mut v = visitor(&app).await;
    send(&mut v, json!({"type": "start", "language": "fr"})).await;
    assert_eq!(next(&mut v).await["reason"], "language");
    let mut v = visitor(&app).await;
    send(&mut v, json!({"type": "start", "language": "en"})).await;
    let token = next(&mut v).await["token"].as_str().unwrap().to_owned();
    until(&mut v, status_is("waiting")).await;
    // Not a frame, an empty message, a pasted book.
    v.send(Message::Text("{\"type\":\"shout\"}".into()))
        .await
        .unwrap();
    assert_eq!(
        until(&mut v, is("error")).await.pop().unwrap()["reason"],
        "bad-frame"
    );
    send(&mut v, json!({"type": "send", "id": "e", "text": "   "})).await;
    assert_eq!(
        until(&mut v, is("refused")).await.pop().unwrap()["reason"],
        "empty"
    );
    let book = "x".repeat(2_001);
    send(&mut v, json!({"type": "send", "id": "b", "text": book})).await;
    assert_eq!(
        until(&mut v, is("refused")).await.pop().unwrap()["reason"],
        "too-long"
    );

    // A flood: the gate took the first messages and slows the rest, saying how long.
    for i in 0..14 {
        send(
            &mut v,
            json!({"type": "send", "id": format!("f-{i}"), "text": format!("line {i}")}),
        )
        .await;
    }
    let mut answers = Vec::new();
    while answers.len() < 14 {
        let frame = next(&mut v).await;
        if frame["type"] == "ack" || frame["type"] == "refused" {
            answers.push(frame);
        }
    }
    let acked = answers.iter().filter(|f| f["type"] == "ack").count();
    let slowed: Vec<&Value> = answers
        .iter()
        .filter(|f| f["reason"] == "too-fast")
        .collect();
    assert_eq!((acked, slowed.len()), (8, 6), "{answers:?}");
    assert!(
        slowed
            .iter()
            .all(|f| f["retry_after"].as_u64().unwrap() >= 1)
    );
    let chat_messages: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM hotline_chat_messages")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(chat_messages, 8);

    // An advocate off the schedule sees the chat but cannot take it.
    let advocate = app.signed_in(Role::HotlineAdvocate, None).await;
    let waiting = queue(&app, &advocate).await;
    assert_eq!(waiting.len(), 1);
    let chat = &waiting[0];
    let page = app
        .get_as(&advocate, "/hotline/console")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("You are not on duty now"));
    let response = post_form(
        &app,
        &advocate,
        &format!("/hotline/chats/{chat}/accept"),
        &[],
    )
    .await;
    assert_eq!(location(&response), "/hotline/console?refused=not-on-duty");
    // Nor open its conversation before someone accepts it.
    let mut a = advocate_socket(&app, &advocate, chat).await;
    send(&mut a, json!({"type": "join", "after": 0})).await;
    assert_eq!(next(&mut a).await["reason"], "unknown-chat");

    // The visitor leaves while waiting: the chat closes and leaves the queue.
    send(&mut v, json!({"type": "leave"})).await;
    for _ in 0..50 {
        if queue(&app, &advocate).await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(queue(&app, &advocate).await.is_empty());
    let mut again = visitor(&app).await;
    send(
        &mut again,
        json!({"type": "resume", "token": token, "after": 0}),
    )
    .await;
    assert_eq!(next(&mut again).await["reason"], "unknown-chat");
}

async fn the_console_hears_of_a_waiting_chat_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let advocate = app.signed_in(Role::HotlineAdvocate, None).await;
    let mut events = app.get_as(&advocate, "/hotline/console/events").await;
    assert_eq!(events.status(), StatusCode::OK);
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    let mut v = visitor(&app).await;
    send(&mut v, json!({"type": "start", "language": "es"})).await;
    let mut received = String::new();
    while !received.contains("event: refresh") {
        let chunk = tokio::time::timeout(Duration::from_secs(5), events.chunk())
            .await
            .expect("no event within 5 seconds")
            .unwrap()
            .expect("the stream ended");
        received.push_str(&String::from_utf8_lossy(&chunk));
    }
    let panels = app
        .get_as(&advocate, "/hotline/console/panels")
        .await
        .text()
        .await
        .unwrap();
    assert!(panels.contains("Waiting chats (1)"), "{panels}");
    assert!(panels.contains("Language: es"));
    // Nothing of the chat but its language and time is on the console.
    assert!(!panels.contains("token"));
}
