//! `tlsrec decode --html FILE`: one self-contained page (no scripts, no
//! external files) with the two directions side by side in the order the
//! records were taken, each record a box (type, length, epoch, sequence
//! number, summary), the TCP segments that cut a record marked, handshake
//! records and key changes highlighted, and what went wrong at the top.

use std::fmt::Write;

/// One record as the page shows it.
#[derive(Debug, Clone)]
pub struct Row {
    /// `c2s` or `s2c`.
    pub dir: &'static str,
    /// Offset in its direction's stream.
    pub offset: u64,
    /// Content type name.
    pub typ: String,
    /// Record length (without the header).
    pub length: u16,
    /// Key epoch.
    pub epoch: u64,
    /// Sequence number, if protected.
    pub seq: Option<u64>,
    /// The summary of its plaintext.
    pub summary: String,
    /// Seconds (a capture's timestamp), if known.
    pub time: Option<f64>,
    /// The segments it came in, `#frame[from..to]` where one cut it.
    pub segments: Vec<String>,
    /// Not opened.
    pub failed: bool,
}

/// One connection: a heading, its records, its problems.
#[derive(Debug, Clone, Default)]
pub struct Section {
    /// `connection 1: a -> b` or the input's name.
    pub title: String,
    /// The records, in the order they were taken.
    pub rows: Vec<Row>,
    /// What is wrong, one sentence each.
    pub problems: Vec<String>,
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '&' => o.push_str("&amp;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

const STYLE: &str = "body{font:14px/1.35 system-ui,sans-serif;margin:1.5em;color:#222}\
h1{font-size:1.3em}h2{font-size:1.1em;margin-top:2em}\
table{border-collapse:collapse;width:100%;table-layout:fixed}\
th{position:sticky;top:0;background:#fff;text-align:left;border-bottom:2px solid #444;padding:4px}\
td{vertical-align:top;padding:3px 4px}.t{width:11em}td.t{color:#666;font:12px monospace}\
.rec{border:1px solid #999;border-radius:4px;padding:3px 6px;background:#f4f4f4}\
.rec .h{font:12px monospace;color:#555}.rec .s{font-weight:600}\
.handshake{background:#e3efff;border-color:#4a7fd0}\
.change_cipher_spec{background:#fff0d9;border-color:#d08a1a}\
.alert{background:#ffe8e0;border-color:#c05030}\
.application_data{background:#f4f4f4}\
.key{border-top:4px solid #d08a1a}\
.failed{background:#ffd0d0;border-color:#c00}\
.cut{color:#a04000;font:12px monospace}.segs{color:#777;font:12px monospace}\
.problems{background:#fff3f3;border:1px solid #c00;padding:.5em 1em}\
.ok{color:#060}";

/// The page.
#[must_use]
pub fn render(title: &str, sections: &[Section]) -> String {
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\" />\
         <title>{}</title><style>{STYLE}</style></head><body>\n<h1>{}</h1>\n\
         <p>Each box is one record: content type, length, key epoch (key changes in its \
         direction so far), sequence number, and what it holds. Blue: handshake; orange: \
         ChangeCipherSpec; an orange bar on top: the first record under new keys; red: alert \
         or a record that did not open. <span class=\"cut\">Brown</span>: the TCP segments \
         that cut a record, with the record's bytes in each.</p>\n",
        esc(title),
        esc(title)
    );
    for sec in sections {
        let _ = writeln!(o, "<h2>{}</h2>", esc(&sec.title));
        if sec.problems.is_empty() {
            let _ = writeln!(
                o,
                "<p class=\"ok\">{} records, every one opened, no bytes left over.</p>",
                sec.rows.len()
            );
        } else {
            o.push_str("<div class=\"problems\"><ul>");
            for p in &sec.problems {
                let _ = write!(o, "<li>{}</li>", esc(p));
            }
            o.push_str("</ul></div>\n");
        }
        o.push_str(
            "<table><thead><tr><th class=\"t\">#</th><th>client to server (c2s)</th>\
             <th>server to client (s2c)</th></tr></thead><tbody>\n",
        );
        let mut last_epoch = [0u64; 2];
        for (n, r) in sec.rows.iter().enumerate() {
            let i = usize::from(r.dir == "s2c");
            let key = r.epoch != last_epoch[i];
            last_epoch[i] = r.epoch;
            let mut class = format!("rec {}", esc(&r.typ));
            if key {
                class.push_str(" key");
            }
            if r.failed {
                class.push_str(" failed");
            }
            let seq = r.seq.map_or("-".to_string(), |s| s.to_string());
            let mut bx = format!(
                "<div class=\"{class}\"><div class=\"h\">{} len {} &#183; epoch {} &#183; seq {} &#183; @{}</div>\
                 <div class=\"s\">{}</div>",
                esc(&r.typ),
                r.length,
                r.epoch,
                seq,
                r.offset,
                esc(&r.summary)
            );
            if !r.segments.is_empty() {
                let cls = if r.segments.len() > 1 { "cut" } else { "segs" };
                let _ = write!(
                    bx,
                    "<div class=\"{cls}\">segments {}</div>",
                    esc(&r.segments.join(" | "))
                );
            }
            bx.push_str("</div>");
            let t = r
                .time
                .map_or_else(|| (n + 1).to_string(), |t| format!("{t:.6}"));
            let (l, rr) = if i == 0 {
                (bx, String::new())
            } else {
                (String::new(), bx)
            };
            let _ = writeln!(
                o,
                "<tr><td class=\"t\">{}</td><td>{l}</td><td>{rr}</td></tr>",
                esc(&t)
            );
        }
        o.push_str("</tbody></table>\n");
    }
    o.push_str("</body></html>\n");
    o
}
