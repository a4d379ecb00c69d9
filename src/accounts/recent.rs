//! Sessions checked in the last few seconds, so that a burst of requests on one
//! session (a page and its styles and scripts, the console's panels, an advocate
//! saving contacts) reads the session from the database once.
//!
//! Why: reading the session was a database round trip on every request, the largest
//! part of a contact save's cost once the save itself was written in groups (measured
//! in docs/benchmarks.md). What it costs: a change made elsewhere is seen within
//! `session_recheck_secs`. Everything this server does that ends or changes a session
//! (signing out, new roles, a locked or disabled account) forgets it here at once; only
//! another server process on the same database, or the `atip user` command, can leave
//! a session working for up to those seconds. Only fully signed-in sessions are kept:
//! one waiting for its second factor is read every time, so finishing sign-in is seen
//! on the next request.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::kernel::auth::{Principal, Stage, UserId};

/// More sessions than a program has staff signed in; past it, expired ones go first.
const MOST: usize = 10_000;

struct Checked {
    principal: Principal,
    at: Instant,
    /// When the session ends however active, and when it was last seen (microseconds).
    expires_at: i64,
    last_seen_at: i64,
}

/// Principals by stored session id, each for `recheck` after it was read.
pub struct RecentSessions {
    recheck: Duration,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    checked: HashMap<String, Checked>,
    /// Turned by every forgetting: a session read from the database before one may
    /// have been read before that sign-out or change, and is not kept.
    turn: u64,
}

/// Where [`RecentSessions`] stood before a session was read from the database.
#[derive(Clone, Copy)]
pub struct Turn(u64);

impl RecentSessions {
    /// Keeps each session for `recheck`; zero keeps none.
    pub fn new(recheck: Duration) -> Self {
        Self {
            recheck,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// To be taken before reading a session, and given to [`RecentSessions::put`].
    pub fn turn(&self) -> Turn {
        Turn(self.inner.lock().map_or(u64::MAX, |inner| inner.turn))
    }

    /// The principal of session `id` if it was checked within the last `recheck` and,
    /// by what was read then, is still alive at `now` for `idle`.
    pub fn get(&self, id: &str, now: i64, idle: Duration) -> Option<Principal> {
        let idle = i64::try_from(idle.as_micros()).unwrap_or(i64::MAX);
        let inner = self.inner.lock().ok()?;
        let entry = inner.checked.get(id)?;
        (entry.at.elapsed() < self.recheck
            && now < entry.expires_at
            && now.saturating_sub(entry.last_seen_at) < idle)
            .then(|| entry.principal.clone())
    }

    /// Remembers a session read from the database after `turn`, unless something was
    /// forgotten since.
    pub fn put(&self, turn: Turn, principal: &Principal, expires_at: i64, last_seen_at: i64) {
        let Some(session) = principal.session.as_ref() else {
            return;
        };
        if self.recheck.is_zero() || session.stage != Stage::Full {
            return;
        }
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        if inner.turn != turn.0 {
            return;
        }
        let checked = &mut inner.checked;
        if checked.len() >= MOST {
            checked.retain(|_, c| c.at.elapsed() < self.recheck);
            if checked.len() >= MOST {
                checked.clear();
            }
        }
        checked.insert(
            session.id.clone(),
            Checked {
                principal: principal.clone(),
                at: Instant::now(),
                expires_at,
                last_seen_at,
            },
        );
    }

    /// Forgets one session (signed out).
    pub fn forget(&self, id: &str) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.turn += 1;
            inner.checked.remove(id);
        }
    }

    /// Forgets every session of an account (signed out everywhere, new roles, locked
    /// or disabled).
    pub fn forget_account(&self, user: UserId) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.turn += 1;
            inner.checked.retain(|_, c| c.principal.id != user);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::auth::{Role, SessionRef};

    fn principal(session: &str, stage: Stage) -> Principal {
        Principal {
            id: UserId::new(),
            email: "advocate@example.org".to_owned(),
            display_name: "Advocate".to_owned(),
            roles: vec![Role::HotlineAdvocate],
            organization_id: None,
            session: Some(SessionRef {
                id: session.to_owned(),
                csrf_token: "csrf".to_owned(),
                stage,
            }),
            scopes: None,
        }
    }

    const IDLE: Duration = Duration::from_mins(15);
    const MINUTE: i64 = 60_000_000;

    #[test]
    fn a_session_is_kept_until_it_must_be_read_again_and_never_past_its_end() {
        let recent = RecentSessions::new(Duration::from_secs(5));
        let p = principal("s1", Stage::Full);
        recent.put(recent.turn(), &p, 100 * MINUTE, 10 * MINUTE);
        assert_eq!(
            recent.get("s1", 11 * MINUTE, IDLE).map(|p| p.id),
            Some(p.id)
        );
        // Idle too long or past its absolute end, by what was read.
        assert!(recent.get("s1", 25 * MINUTE, IDLE).is_none());
        assert!(recent.get("s1", 100 * MINUTE, IDLE).is_none());
        assert!(recent.get("s2", 11 * MINUTE, IDLE).is_none());

        let soon = RecentSessions::new(Duration::from_millis(20));
        soon.put(soon.turn(), &p, 100 * MINUTE, 10 * MINUTE);
        std::thread::sleep(Duration::from_millis(30));
        assert!(soon.get("s1", 11 * MINUTE, IDLE).is_none());
    }

    #[test]
    fn only_full_sessions_are_kept_and_forgetting_is_at_once() {
        let recent = RecentSessions::new(Duration::from_secs(5));
        recent.put(
            recent.turn(),
            &principal("half", Stage::Mfa),
            100 * MINUTE,
            10 * MINUTE,
        );
        assert!(recent.get("half", 11 * MINUTE, IDLE).is_none());

        let a = principal("a1", Stage::Full);
        let mut a2 = principal("a2", Stage::Full);
        a2.id = a.id;
        let b = principal("b1", Stage::Full);
        for p in [&a, &a2, &b] {
            recent.put(recent.turn(), p, 100 * MINUTE, 10 * MINUTE);
        }
        recent.forget("b1");
        assert!(recent.get("b1", 11 * MINUTE, IDLE).is_none());
        assert!(recent.get("a1", 11 * MINUTE, IDLE).is_some());
        recent.forget_account(a.id);
        assert!(recent.get("a1", 11 * MINUTE, IDLE).is_none());
        assert!(recent.get("a2", 11 * MINUTE, IDLE).is_none());

        // A session read before a sign-out that is forgotten meanwhile is not kept.
        let before = recent.turn();
        recent.forget("b1");
        recent.put(before, &b, 100 * MINUTE, 10 * MINUTE);
        assert!(recent.get("b1", 11 * MINUTE, IDLE).is_none());

        let off = RecentSessions::new(Duration::ZERO);
        off.put(off.turn(), &a, 100 * MINUTE, 10 * MINUTE);
        assert!(off.get("a1", 11 * MINUTE, IDLE).is_none());
    }
}
