//! Lead sources that are probably one source typed differently: the same
//! after case, spacing and punctuation are set aside (`Walk-in`, `walk in`,
//! `WALKIN`), or one or two letters apart (`Refferal` / `Referral`). A
//! suggestion only: people merge (`service::leads::merge_sources`).

/// What is left of a source's name for comparing: lower-case letters and
/// digits, nothing else.
pub fn source_key(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Edit distance (insert, delete, substitute, swap of two neighbours)
/// between `a` and `b`, or `None` once it exceeds `limit`.
fn distance_within(a: &[char], b: &[char], limit: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > limit {
        return None;
    }
    let (n, m) = (a.len(), b.len());
    let mut prev2: Vec<usize> = vec![0; m + 1];
    let mut prev: Vec<usize> = (0..=m).collect();
    let mut cur = vec![0; m + 1];
    for i in 1..=n {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(prev2[j - 2] + 1);
            }
            cur[j] = v;
            row_min = row_min.min(v);
        }
        if row_min > limit {
            return None;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    (prev[m] <= limit).then_some(prev[m])
}

/// How many typing slips two keys of this length may differ by and still be
/// one source: none for short names (`OLX` and `OLA` are two), one from 4
/// letters, two from 8.
fn slips_allowed(len: usize) -> usize {
    match len {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

/// Above this many distinct keys the spelling comparison (every pair) is
/// skipped; case and spacing are still matched.
pub const SPELLING_LIMIT: usize = 3_000;

/// Groups of likely duplicates among `sources` (name, leads): each group
/// holds indexes into `sources`, the one with the most leads first (the
/// suggested name to keep), then by name; groups with the most leads first.
/// A source is in at most one group; sources alone are in none.
pub fn likely_duplicates(sources: &[(String, i64)]) -> Vec<Vec<usize>> {
    // one node per distinct key
    let mut keys: Vec<String> = Vec::new();
    let mut node_of = Vec::with_capacity(sources.len());
    for (name, _) in sources {
        let k = source_key(name);
        let at = match keys.iter().position(|x| *x == k) {
            Some(i) => i,
            None => {
                keys.push(k);
                keys.len() - 1
            }
        };
        node_of.push(at);
    }
    let mut parent: Vec<usize> = (0..keys.len()).collect();
    fn root(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    if keys.len() <= SPELLING_LIMIT {
        let chars: Vec<Vec<char>> = keys.iter().map(|k| k.chars().collect()).collect();
        for i in 0..chars.len() {
            for j in i + 1..chars.len() {
                let limit = slips_allowed(chars[i].len().min(chars[j].len()));
                if limit > 0 && distance_within(&chars[i], &chars[j], limit).is_some() {
                    let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                    parent[a] = b;
                }
            }
        }
    }
    let mut groups: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for (i, node) in node_of.iter().enumerate() {
        groups.entry(root(&mut parent, *node)).or_default().push(i);
    }
    let mut out: Vec<Vec<usize>> = groups.into_values().filter(|g| g.len() > 1).collect();
    for g in &mut out {
        g.sort_by(|&a, &b| {
            sources[b]
                .1
                .cmp(&sources[a].1)
                .then(sources[a].0.cmp(&sources[b].0))
        });
    }
    let total = |g: &Vec<usize>| -> i64 { g.iter().map(|&i| sources[i].1).sum() };
    out.sort_by(|a, b| total(b).cmp(&total(a)).then(a[0].cmp(&b[0])));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(sources: &[(String, i64)], groups: &[Vec<usize>]) -> Vec<Vec<String>> {
        groups
            .iter()
            .map(|g| g.iter().map(|&i| sources[i].0.clone()).collect())
            .collect()
    }

    fn src(list: &[(&str, i64)]) -> Vec<(String, i64)> {
        list.iter().map(|(n, c)| (n.to_string(), *c)).collect()
    }

    #[test]
    fn case_spacing_and_punctuation() {
        let s = src(&[
            ("Walk-in", 40),
            ("walk in", 3),
            ("WALKIN ", 2),
            ("Job portal", 10),
        ]);
        assert_eq!(
            names(&s, &likely_duplicates(&s)),
            [["Walk-in", "walk in", "WALKIN "]]
        );
    }

    #[test]
    fn spelling_slips_by_length() {
        let s = src(&[
            ("Referral", 30),
            ("Refferal", 4),
            ("Refrral", 1),
            ("OLX", 9),
            ("OLA", 8),
            ("Naukri.com", 12),
            ("Nuakri com", 2),
            ("Indeed", 5),
            ("Facebook", 6),
        ]);
        let got = names(&s, &likely_duplicates(&s));
        assert_eq!(
            got,
            vec![
                vec!["Referral", "Refferal", "Refrral"],
                vec!["Naukri.com", "Nuakri com"],
            ],
            "OLX/OLA are too short to call a slip"
        );
    }

    #[test]
    fn the_most_used_name_comes_first_and_nothing_alone() {
        let s = src(&[("walk in", 50), ("Walk-in", 3), ("Telegram", 1)]);
        assert_eq!(names(&s, &likely_duplicates(&s)), [["walk in", "Walk-in"]]);
        assert!(likely_duplicates(&src(&[("A", 1)])).is_empty());
        assert!(likely_duplicates(&[]).is_empty());
    }

    #[test]
    fn distance() {
        let c = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(distance_within(&c("referral"), &c("refferal"), 2), Some(2));
        assert_eq!(
            distance_within(&c("abcd"), &c("abdc"), 1),
            Some(1),
            "a swap is one slip"
        );
        assert_eq!(distance_within(&c("abcdef"), &c("uvwxyz"), 2), None);
        assert_eq!(source_key(" Walk-In 2.0 "), "walkin20");
    }
}
