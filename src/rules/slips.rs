//! One mistake, one finding. A rule marked `slip = true` reports a value that does not
//! mean what it says (`fastcgi_read_timeout 300ms`, PHP-FPM's `500ms` read as 500 s). Other
//! rules that read that value would report its consequences as findings of their own; they
//! are folded into the slip's finding instead: it takes the highest severity among them and
//! names them, so nothing is lost and the user fixes one thing.

use crate::finding::{Finding, Location};

/// Does `at` point at the slipped value (the value itself or a part of it)? A finding at
/// the whole line or block holding it is about something else (a duplicate, the block).
fn cites(at: Location, slip: Location) -> bool {
    at.file == slip.file && slip.span.start() <= at.span.start() && at.span.end() <= slip.span.end()
}

pub fn fold(findings: &mut Vec<Finding>, is_slip: impl Fn(&str) -> bool) {
    let slip: Vec<bool> = findings.iter().map(|f| is_slip(&f.code)).collect();
    if !slip.contains(&true) {
        return;
    }
    let mut absorbed = vec![false; findings.len()];
    for s in (0..findings.len()).filter(|&i| slip[i]) {
        let at = findings[s].location;
        let folded: Vec<usize> = (0..findings.len())
            .filter(|&i| !absorbed[i] && !slip[i])
            .filter(|&i| cites(findings[i].location, at) || findings[i].related.iter().any(|r| cites(r.location, at)))
            .collect();
        if folded.is_empty() {
            continue;
        }
        let mut codes: Vec<String> = folded.iter().map(|&i| findings[i].code.clone()).collect();
        codes.sort();
        codes.dedup();
        let severity = folded.iter().map(|&i| findings[i].severity).chain([findings[s].severity]).max().unwrap_or(findings[s].severity);
        for &i in &folded {
            absorbed[i] = true;
        }
        let it = &mut findings[s];
        it.severity = severity;
        let note = format!("the same mistake also trips {}, not reported separately", codes.join(", "));
        it.help = Some(match it.help.take() {
            Some(h) if h.ends_with(['?', '.']) => format!("{h} The{}.", &note[3..]),
            Some(h) => format!("{h}; {note}"),
            None => note,
        });
        it.folded.extend(codes);
    }
    let mut i = 0;
    findings.retain(|_| {
        i += 1;
        !absorbed[i - 1]
    });
}
