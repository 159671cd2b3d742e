//! Gapped positions: a task placed between two others takes the midpoint, so a move writes one
//! row. Only when two neighbours are adjacent integers is the column renumbered.

/// Distance between consecutive positions after appending or renumbering.
pub const GAP: i64 = 1 << 16;

/// The position between `prev` and `next` (`None` at either end of the column), or `None` when
/// there is no room left and the column must be renumbered.
pub fn between(prev: Option<i64>, next: Option<i64>) -> Option<i64> {
    match (prev, next) {
        (None, None) => Some(0),
        (Some(p), None) => p.checked_add(GAP),
        (None, Some(n)) => n.checked_sub(GAP),
        (Some(p), Some(n)) => {
            let room = n.checked_sub(p)?;
            (room > 1).then(|| p + room / 2)
        }
    }
}

/// Renumbered positions for `count` tasks, all strictly above `max_existing` (so no renumbered
/// task can collide with a position still in use during the renumbering).
pub fn renumbered(max_existing: i64, count: usize) -> Option<Vec<i64>> {
    let base = max_existing.checked_add(GAP)?;
    (0..count)
        .map(|i| i64::try_from(i).ok()?.checked_mul(GAP)?.checked_add(base))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn midpoints_edges_and_exhaustion() {
        assert_eq!(between(None, None), Some(0));
        assert_eq!(between(Some(0), None), Some(GAP));
        assert_eq!(between(None, Some(0)), Some(-GAP));
        assert_eq!(between(Some(0), Some(GAP)), Some(GAP / 2));
        assert_eq!(between(Some(4), Some(5)), None);
        assert_eq!(between(Some(i64::MAX), None), None);
    }

    #[test]
    fn repeated_inserts_at_one_spot_exhaust_after_about_sixteen() {
        let (prev, mut next) = (0, GAP);
        let mut inserted = 0;
        while let Some(p) = between(Some(prev), Some(next)) {
            next = p;
            inserted += 1;
        }
        assert_eq!(inserted, 16);
    }

    #[test]
    fn renumbering_stays_above_existing_positions() {
        let positions = renumbered(100, 3).unwrap();
        assert_eq!(positions, vec![100 + GAP, 100 + 2 * GAP, 100 + 3 * GAP]);
        assert!(renumbered(i64::MAX - 1, 2).is_none());
    }
}
