//! The chat's WebSockets. Both pages speak the frames of `model::chat`: the server
//! sends every message after the number the page says it has, acknowledges each
//! message it keeps, and looks again whenever the chat changes (or every two seconds,
//! for what another server process wrote).

use std::time::{Duration, Instant};

use axum::Extension;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::response::Response;
use tokio::sync::broadcast::error::RecvError;

use super::super::live::Signal;
use super::super::model::chat::{
    self, ChatStatus, ClientFrame, FRAME_MAX_BYTES, FloodGate, Refusal, Sender, ServerFrame,
};
use super::super::service::HotlineError;
use crate::app::AppState;
use crate::kernel::audit::{self, Event, Outcome};
use crate::kernel::auth::Principal;

/// How long a page has to say who it is after connecting.
const HELLO_WITHIN: Duration = Duration::from_secs(30);
/// How often a page looks again without being told.
const LOOK_AGAIN: Duration = Duration::from_secs(2);

fn upgrade(ws: WebSocketUpgrade) -> WebSocketUpgrade {
    ws.max_message_size(FRAME_MAX_BYTES)
        .max_frame_size(FRAME_MAX_BYTES)
}

/// The visitor's connection: start a chat or resume one with its token.
pub async fn visitor(State(state): State<AppState>, ws: WebSocketUpgrade) -> Response {
    upgrade(ws).on_upgrade(move |socket| async move {
        if let Err(e) = visitor_session(&state, socket).await {
            tracing::warn!(error = %e, "a visitor's chat connection failed");
        }
    })
}

/// An advocate's connection to a chat they (or a colleague) accepted.
pub async fn advocate(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    ws: WebSocketUpgrade,
) -> Response {
    upgrade(ws).on_upgrade(move |socket| async move {
        if let Err(e) = advocate_session(&state, &principal, &id, socket).await {
            tracing::warn!(error = %e, "an advocate's chat connection failed");
        }
    })
}

async fn send(socket: &mut WebSocket, frame: &ServerFrame) -> bool {
    match serde_json::to_string(frame) {
        Ok(text) => socket.send(Message::Text(text.into())).await.is_ok(),
        Err(_) => false,
    }
}

/// Tells the page what was wrong with what it sent; false when the page is gone.
async fn fail(socket: &mut WebSocket, reason: &'static str) -> bool {
    send(socket, &ServerFrame::Error { reason }).await
}

/// The first frame a page sends, if it sends one in time.
async fn hello(socket: &mut WebSocket) -> Option<ClientFrame> {
    let first = tokio::time::timeout(HELLO_WITHIN, socket.recv())
        .await
        .ok()??;
    match first {
        Ok(Message::Text(text)) => ClientFrame::parse(&text),
        _ => None,
    }
}

async fn visitor_session(state: &AppState, mut socket: WebSocket) -> Result<(), HotlineError> {
    let (chat_id, after) = match hello(&mut socket).await {
        Some(ClientFrame::Start {
            language,
            return_code,
        }) => {
            let Some(language) = chat::language(&language) else {
                fail(&mut socket, "language").await;
                return Ok(());
            };
            let started =
                super::start(&state.db, &state.crypto, language, return_code.as_deref()).await?;
            state.live.notify(Signal::Console);
            if !send(
                &mut socket,
                &ServerFrame::Started {
                    token: started.token,
                    return_code: started.return_code,
                },
            )
            .await
            {
                return Ok(());
            }
            (started.id, 0)
        }
        Some(ClientFrame::Resume { token, after }) => match super::resume(&state.db, &token).await?
        {
            Some(chat) if chat.status().takes_messages() => (chat.id, after),
            _ => {
                fail(&mut socket, "unknown-chat").await;
                return Ok(());
            }
        },
        _ => {
            fail(&mut socket, "bad-frame").await;
            return Ok(());
        }
    };
    converse(state, socket, &chat_id, Sender::Visitor, after).await
}

async fn advocate_session(
    state: &AppState,
    principal: &Principal,
    chat_id: &str,
    mut socket: WebSocket,
) -> Result<(), HotlineError> {
    let Some(ClientFrame::Join { after }) = hello(&mut socket).await else {
        fail(&mut socket, "bad-frame").await;
        return Ok(());
    };
    let accepted = super::find(&state.db, chat_id)
        .await?
        .is_some_and(|c| c.status() != ChatStatus::Waiting);
    if !accepted {
        fail(&mut socket, "unknown-chat").await;
        return Ok(());
    }
    // Opening a conversation with someone in danger is a reading of it.
    let event = Event {
        object_type: Some("hotline_chat"),
        object_id: Some(chat_id.to_owned()),
        ..Event::by(principal, "hotline.chat.read")
    };
    let mut conn = state.db.writer().acquire().await?;
    audit::append(&mut conn, &event, Outcome::Success).await?;
    drop(conn);
    converse(state, socket, chat_id, Sender::Advocate, after).await
}

/// What this connection has sent the page so far.
struct Sent {
    last_seq: i64,
    status: Option<ChatStatus>,
}

/// Sends the page what it has not seen; false when the page is gone.
async fn catch_up(
    state: &AppState,
    socket: &mut WebSocket,
    chat_id: &str,
    sent: &mut Sent,
) -> Result<bool, HotlineError> {
    for m in super::messages_after(&state.db, &state.crypto, chat_id, sent.last_seq).await? {
        let frame = ServerFrame::Message {
            seq: m.seq,
            from: m.from,
            id: m.id,
            text: m.text,
            at: m.at,
        };
        if !send(socket, &frame).await {
            return Ok(false);
        }
        sent.last_seq = m.seq;
    }
    let status = super::find(&state.db, chat_id)
        .await?
        .map_or(ChatStatus::Closed, |c| c.status());
    if sent.status != Some(status) {
        if !send(socket, &ServerFrame::Status { status }).await {
            return Ok(false);
        }
        sent.status = Some(status);
    }
    Ok(true)
}

async fn converse(
    state: &AppState,
    mut socket: WebSocket,
    chat_id: &str,
    me: Sender,
    after: i64,
) -> Result<(), HotlineError> {
    let mut signals = state.live.subscribe();
    let mut gate = FloodGate::default();
    let mut look_again = tokio::time::interval(LOOK_AGAIN);
    let mut sent = Sent {
        last_seq: after.max(0),
        status: None,
    };
    loop {
        tokio::select! {
            incoming = socket.recv() => {
                let text = match incoming {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(_)) | Err(_)) | None => return Ok(()),
                    Some(Ok(_)) => continue,
                };
                match ClientFrame::parse(&text) {
                    Some(ClientFrame::Send { id, text }) if chat::is_client_id(&id) => {
                        let answer = take(state, &mut gate, chat_id, me, &id, &text).await?;
                        if !send(&mut socket, &answer).await {
                            return Ok(());
                        }
                    }
                    Some(ClientFrame::Leave) if me == Sender::Visitor => {
                        super::leave(&state.db, chat_id).await?;
                        state.live.notify(Signal::Chat(chat_id.to_owned()));
                        state.live.notify(Signal::Console);
                        return Ok(());
                    }
                    _ => {
                        if !fail(&mut socket, "bad-frame").await {
                            return Ok(());
                        }
                    }
                }
            }
            signal = signals.recv() => match signal {
                Ok(Signal::Chat(id)) if id == chat_id => {
                    if !catch_up(state, &mut socket, chat_id, &mut sent).await? {
                        return Ok(());
                    }
                }
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => {
                    if !catch_up(state, &mut socket, chat_id, &mut sent).await? {
                        return Ok(());
                    }
                }
                Err(RecvError::Closed) => return Ok(()),
            },
            _ = look_again.tick() => {
                if !catch_up(state, &mut socket, chat_id, &mut sent).await? {
                    return Ok(());
                }
            }
        }
    }
}

/// Keeps one message (or says why not) and tells both pages.
async fn take(
    state: &AppState,
    gate: &mut FloodGate,
    chat_id: &str,
    me: Sender,
    id: &str,
    text: &str,
) -> Result<ServerFrame, HotlineError> {
    // Advocates type; a flood only comes from the public side.
    if me == Sender::Visitor
        && let Err(wait) = gate.admit(Instant::now())
    {
        return Ok(ServerFrame::Refused {
            id: id.to_owned(),
            reason: Refusal::TooFast,
            retry_after: Some(wait),
        });
    }
    match super::post(&state.db, &state.crypto, chat_id, (me, id), text).await? {
        Ok(seq) => {
            state.live.notify(Signal::Chat(chat_id.to_owned()));
            Ok(ServerFrame::Ack {
                id: id.to_owned(),
                seq,
            })
        }
        Err(reason) => Ok(ServerFrame::Refused {
            id: id.to_owned(),
            reason,
            retry_after: None,
        }),
    }
}
