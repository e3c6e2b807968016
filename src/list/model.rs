//! What `<mend-connections>` shows, as data (plain Rust, unit-tested natively): which
//! of the user's connections get an entry, how (in full, or as one calm line), and
//! how many need the user.
//!
//! - a state where the user must act (`StateKind::UserAction`): a full entry,
//!   counted in `data-count`;
//! - a state Powens works on or retries by itself (`validating`, `rateLimiting`,
//!   `websiteUnavailable`, `bug`), one it can't act on (`notSupported`, unknown), or a
//!   fine connection whose bank access runs out soon (`renew`): one calm line (a
//!   compact entry), not counted;
//! - a fine connection: nothing.
//!
//! Once shown, an entry stays until the list is read again (`refresh()`, a new
//! session after a failure): a repair ends on the entry's own "up to date" panel
//! under the user's eyes, rather than the entry vanishing from under the pointer.

use mend_model::api::ConnectionStatus;
use mend_model::{ConnectionState, StateKind};

/// How a connection is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Show {
    /// In full: the user must act.
    Full,
    /// As one calm line (a compact entry the user may open).
    Calm,
}

/// How `status` is shown in the list; `None`: not at all (it is fine).
pub fn show(status: &ConnectionStatus) -> Option<Show> {
    match status.kind() {
        None => status.renew.then_some(Show::Calm),
        Some(StateKind::UserAction) => Some(Show::Full),
        Some(_) => Some(Show::Calm),
    }
}

/// Whether the user must act in `state` (what `data-count` counts).
pub fn needs_user(state: Option<&ConnectionState>) -> bool {
    state.is_some_and(|s| s.kind() == StateKind::UserAction)
}

/// The entries shown, in order, with each one's state as last heard.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Model {
    entries: Vec<(i64, Option<ConnectionState>)>,
}

/// What a new reading of the list changes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Diff {
    /// Entries to add, in order, with how to show each.
    pub add: Vec<(ConnectionStatus, Show)>,
    /// Entries to remove (fine now, or gone).
    pub remove: Vec<i64>,
}

impl Model {
    /// Reads the list anew: connections that need showing and are not shown yet are
    /// added; shown ones that are now fine, or no longer listed, are removed; the
    /// others stay as they are (their element keeps its state, a form being filled
    /// included).
    pub fn read(&mut self, list: Vec<ConnectionStatus>) -> Diff {
        let mut diff = Diff::default();
        let mut next = Vec::new();
        for status in list {
            let shown = self.entries.iter().any(|(id, _)| *id == status.id);
            match (show(&status), shown) {
                (Some(how), false) => {
                    next.push((status.id, status.state.clone()));
                    diff.add.push((status, how));
                }
                (Some(_), true) => next.push((status.id, status.state)),
                (None, _) => {}
            }
        }
        for (id, _) in &self.entries {
            if !next.iter().any(|(n, _)| n == id) {
                diff.remove.push(*id);
            }
        }
        // Kept entries stay where they were; new ones follow, in Powens' order.
        let mut entries: Vec<_> = self
            .entries
            .iter()
            .filter_map(|(id, _)| next.iter().find(|(n, _)| n == id).cloned())
            .collect();
        for e in next {
            if !entries.iter().any(|(id, _)| *id == e.0) {
                entries.push(e);
            }
        }
        self.entries = entries;
        diff
    }

    /// An entry's element said its state changed (`mend:state`). Returns whether it
    /// is one of ours.
    pub fn heard(&mut self, id: i64, state: Option<ConnectionState>) -> bool {
        match self.entries.iter_mut().find(|(i, _)| *i == id) {
            Some(entry) => {
                entry.1 = state;
                true
            }
            None => false,
        }
    }

    /// How many entries need the user now (`data-count`).
    pub fn count(&self) -> usize {
        self.entries
            .iter()
            .filter(|(_, s)| needs_user(s.as_ref()))
            .count()
    }

    /// Whether there is anything to show.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The ids shown, in order.
    pub fn ids(&self) -> Vec<i64> {
        self.entries.iter().map(|(id, _)| *id).collect()
    }
}

/// The list's summary line for `count` connections needing the user.
pub fn summary(t: &crate::i18n::Texts, count: usize) -> String {
    match count {
        0 => t.list_none.to_owned(),
        1 => t.list_one.to_owned(),
        // By hand: `str::replace` would link a substring search into the wasm for this
        // one call.
        n => {
            let many = t.list_many;
            match many.as_bytes().windows(3).position(|w| w == b"{n}") {
                Some(i) => format!("{}{n}{}", &many[..i], &many[i + 3..]),
                None => many.to_owned(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mend_model::ConnectionState as S;

    fn status(id: i64, state: Option<S>) -> ConnectionStatus {
        ConnectionStatus {
            id,
            state,
            message: None,
            fields: vec![],
            last_update: None,
            next_try: None,
            expire: None,
            connector: None,
            sources: vec![],
            actions: vec![],
            server_time: None,
            access_expire: None,
            renew: false,
        }
    }

    #[test]
    fn the_user_s_states_in_full_the_retried_ones_calm_the_fine_ones_not_at_all() {
        for s in S::DOCUMENTED {
            let want = match s {
                S::ScaRequired
                | S::WebauthRequired
                | S::AdditionalInformationNeeded
                | S::Decoupled
                | S::ActionNeeded
                | S::PasswordExpired
                | S::Wrongpass => Show::Full,
                _ => Show::Calm,
            };
            assert_eq!(show(&status(1, Some(s.clone()))), Some(want), "{s}");
            assert_eq!(needs_user(Some(&s)), want == Show::Full, "{s}");
        }
        assert_eq!(
            show(&status(1, Some(S::parse("brandNew")))),
            Some(Show::Calm)
        );
        assert_eq!(show(&status(1, None)), None);
        let renew = ConnectionStatus {
            renew: true,
            ..status(1, None)
        };
        assert_eq!(show(&renew), Some(Show::Calm));
        assert!(!needs_user(None));
    }

    #[test]
    fn a_reading_adds_what_needs_showing_keeps_what_is_shown_and_removes_the_fine() {
        let mut m = Model::default();
        let d = m.read(vec![
            status(1, None),
            status(2, Some(S::Wrongpass)),
            status(3, Some(S::RateLimiting)),
            status(4, Some(S::Decoupled)),
        ]);
        assert_eq!(
            d.add.iter().map(|(s, h)| (s.id, *h)).collect::<Vec<_>>(),
            [(2, Show::Full), (3, Show::Calm), (4, Show::Full)]
        );
        assert!(d.remove.is_empty());
        assert_eq!((m.count(), m.ids()), (2, vec![2, 3, 4]));

        // Entry 2 is repaired in place: still shown, no longer counted.
        assert!(m.heard(2, None));
        assert!(!m.heard(9, None), "not ours");
        assert_eq!((m.count(), m.ids()), (1, vec![2, 3, 4]));
        // The calm one now needs the user.
        m.heard(3, Some(S::ScaRequired));
        assert_eq!(m.count(), 2);

        // Read again: 2 (fine) and 4 (gone) leave, 3 stays, 5 is new.
        let d = m.read(vec![
            status(5, Some(S::ActionNeeded)),
            status(2, None),
            status(3, Some(S::ScaRequired)),
        ]);
        assert_eq!(d.add.iter().map(|(s, _)| s.id).collect::<Vec<_>>(), [5]);
        assert_eq!(d.remove, [2, 4]);
        assert_eq!((m.count(), m.ids()), (2, vec![3, 5]));

        assert_eq!(m.read(vec![]).remove, [3, 5]);
        assert!(m.is_empty());
    }

    #[test]
    fn the_summary_counts_in_words() {
        let t = &crate::i18n::EN;
        assert_eq!(summary(t, 0), t.list_none);
        assert_eq!(summary(t, 1), "1 bank connection needs your attention");
        assert_eq!(summary(t, 3), "3 bank connections need your attention");
    }
}
