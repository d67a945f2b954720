//! Visits per website, from web-server access logs: the founding example
//! of MapReduce.
//!
//! ```text
//! cargo run --release -- generate --kind access-log --size 100M -o access.log
//! cargo run --release --example website_visits -- [--top N] access.log...
//! ```
//!
//! Input lines are Apache's `vhost_combined` format (see
//! `mr_local::generate::AccessLogConfig`): the Combined Log Format with
//! `site:port` in front. Output: `site<TAB>visits`, most visited first (ties
//! by name), the `N` first only with `--top N`. Malformed lines are counted,
//! reported on stderr, and otherwise skipped.
//!
//! How the job flows, for the lines `a.com:443 …`, `b.org:80 …`, `a.com:443 …`:
//!
//! ```text
//! map      each line ─▶ (site, 1)          (a.com,1) (b.org,1) (a.com,1)
//! combine  on each thread, as pairs come:  (a.com,2) (b.org,1)
//! shuffle  partition = hash(site) mod R:   a.com ─▶ partition 3, b.org ─▶ 0
//! reduce   per partition, per site:        a.com: [2] ─▶ 2    b.org: [1] ─▶ 1
//! ```
//!
//! A thread sees many lines of the same popular site, so the combiner
//! shrinks what crosses the shuffle from one pair per line to about one pair
//! per site per thread; reduce then adds up the partial sums of all threads.

use std::error::Error;
use std::io::Write;

use mr_local::{Emit, InputOptions, Inputs, Job};

fn main() -> Result<(), Box<dyn Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut top = usize::MAX;
    if let Some(at) = args.iter().position(|a| a == "--top") {
        let n = args.get(at + 1).ok_or("--top needs a number")?;
        top = n.parse().map_err(|_| format!("--top {n}: not a number"))?;
        args.drain(at..at + 2);
    }
    if args.is_empty() {
        return Err("usage: website_visits [--top N] ACCESS_LOG...".into());
    }
    let inputs = Inputs::open(&args, &InputOptions::default())?;
    let job = Job::builder().build()?;

    let visits = job
        // Map: one (site, 1) pair per valid line. The key borrows the
        // site's bytes from the input: no allocation per line.
        .map(&inputs, |line: &[u8], out: &mut Emit<&[u8], u64>| {
            match site(line) {
                Some(site) => out.emit(site, 1),
                None => out.counter("malformed", 1),
            }
            Ok(())
        })
        // Combine: add up the 1s of each site on the map side.
        .combine(|sum, n| *sum += n)
        // Reduce: add up the partial sums that reach each site's partition.
        .reduce(|_site, partial_sums| partial_sums.iter().sum::<u64>())?;

    let counters = visits.counters().clone();
    let mut visits = visits.into_vec();
    visits.sort_unstable_by(|(a, x), (b, y)| y.cmp(x).then(a.cmp(b)));
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (site, n) in visits.iter().take(top) {
        out.write_all(site)?;
        writeln!(out, "\t{n}")?;
    }
    out.flush()?;
    eprintln!(
        "website_visits: {} lines, {} sites, {} malformed lines skipped",
        counters.records,
        visits.len(),
        counters.user("malformed")
    );
    Ok(())
}

/// The site of a `vhost_combined` line, or `None` if the line is
/// malformed.
fn site(line: &[u8]) -> Option<&[u8]> {
    let [vhost, _host, _ident, _user, time, request, status, size, referrer, agent] = fields(line)?;
    let digits = |f: &[u8]| !f.is_empty() && f.iter().all(u8::is_ascii_digit);
    let quoted = |f: &[u8]| f.first() == Some(&b'"');
    let well_formed = time.len() > 2
        && time[0] == b'['
        && quoted(request)
        && status.len() == 3
        && digits(status)
        && (size == b"-" || digits(size))
        && quoted(referrer)
        && quoted(agent);
    // `site:port`: the site is what the Host header named.
    let colon = vhost.iter().position(|&b| b == b':')?;
    let (site, port) = (&vhost[..colon], &vhost[colon + 1..]);
    (well_formed && !site.is_empty() && digits(port)).then_some(site)
}

/// Cuts a line into its ten fields, separated by single spaces: `[...]`
/// ends at `]`, `"..."` at the first `"` not escaped by a `\`, any other
/// field at the next space. Fields are never empty.
fn fields(line: &[u8]) -> Option<[&[u8]; 10]> {
    let mut fields = [&line[..0]; 10];
    let mut rest = line;
    for (i, field) in fields.iter_mut().enumerate() {
        let end = match rest.first()? {
            b'[' => rest.iter().position(|&b| b == b']')? + 1,
            b'"' => {
                let mut at = 1;
                while *rest.get(at)? != b'"' {
                    at += if rest[at] == b'\\' { 2 } else { 1 };
                }
                at + 1
            }
            b' ' => return None, // an empty field
            _ => rest.iter().position(|&b| b == b' ').unwrap_or(rest.len()),
        };
        (*field, rest) = rest.split_at(end);
        if i < 9 {
            rest = rest.strip_prefix(b" ")?;
        }
    }
    rest.is_empty().then_some(fields)
}
