//! The gallery's one static page: a card per task, a filter box and a sort menu run by a few lines
//! of inline JavaScript (no external script, font or style), so it works from `file://` and from
//! a bucket. Every text from the server or the user is HTML-escaped where it is written, links are
//! only relative paths or http(s) URLs, and a Content-Security-Policy lets only this page's own
//! script and style run (by their hashes), so an escaped-but-missed `<script>` could not run either.

use base64::Engine as _;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

/// One task on the page. Texts are raw (escaped here); links are already safe hrefs
/// ([`href_path`], [`href_url`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct Card {
    pub(crate) local_id: String,
    pub(crate) display_id: String,
    pub(crate) status: String,
    pub(crate) model: String,
    pub(crate) prompt: String,
    /// (name, value) of the request's parameters.
    pub(crate) params: Vec<(String, String)>,
    pub(crate) tokens: Option<u64>,
    pub(crate) cost: Option<String>,
    /// Unix seconds.
    pub(crate) created_at: i64,
    /// `retry of X` / `edited from X`.
    pub(crate) lineage: Option<String>,
    pub(crate) label: Option<String>,
    pub(crate) poster: Option<String>,
    pub(crate) sheet: Option<String>,
    /// The sheet's frame times, seconds.
    pub(crate) sheet_times: Vec<f64>,
    pub(crate) video: Option<String>,
    /// Why something is missing (no sheet, video elsewhere, link expired).
    pub(crate) notes: Vec<String>,
}

/// `s` with `& < > " '` as entities: safe in text and in a double-quoted attribute.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters have no business in a page.
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// A relative path (`../videos/a b.mp4`) as an href: each segment percent-encoded, so `#`, `?`,
/// `:` or a quote in a file name cannot change what the link means.
pub(crate) fn href_path(rel: &str) -> String {
    rel.split('/')
        .map(|seg| {
            let mut out = String::new();
            for b in seg.bytes() {
                if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                    out.push(b as char);
                } else {
                    let _ = write!(out, "%{b:02X}");
                }
            }
            out
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// An absolute link kept only when it is http(s) (a `javascript:` or `data:` link from a server
/// is dropped).
pub(crate) fn href_url(url: &str) -> Option<String> {
    let lower = url.trim_start().to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")).then(|| url.trim().to_string())
}

const STYLE: &str = "\
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#111;color:#ddd}\
header{position:sticky;top:0;background:#222;padding:8px 12px;display:flex;gap:12px;align-items:center;flex-wrap:wrap}\
header input{flex:1;min-width:12em;padding:4px}\
main{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:12px;padding:12px}\
article{background:#1b1b1b;border:1px solid #333;border-radius:6px;padding:8px;overflow:hidden}\
article img,article video{width:100%;display:block;background:#000}\
.meta{color:#999;font-size:12px}.prompt{white-space:pre-wrap;margin:6px 0}\
.status-succeeded{color:#7c7}.status-failed,.status-expired{color:#e77}\
.times{display:flex;justify-content:space-between;font-size:11px;color:#888}\
dl{display:grid;grid-template-columns:auto 1fr;gap:0 8px;margin:4px 0;font-size:12px}dt{color:#888}dd{margin:0}\
.note{color:#c96;font-size:12px}";

/// Filter: every word must be in the card's text. Sort: by a data attribute. `#q=WORDS` in the
/// address fills the filter (a shared link keeps its view).
const SCRIPT: &str = "\
(function(){\
var q=document.getElementById('q'),s=document.getElementById('sort'),m=document.querySelector('main');\
var cards=Array.prototype.slice.call(m.querySelectorAll('article'));\
function apply(){var w=q.value.toLowerCase().split(/\\s+/).filter(Boolean),n=0;\
cards.forEach(function(c){var t=c.getAttribute('data-text');var ok=w.every(function(x){return t.indexOf(x)>=0});c.hidden=!ok;if(ok)n++});\
document.getElementById('count').textContent=n+' of '+cards.length;}\
function order(){var k=s.value,d=k.charAt(0)==='-',a=d?k.slice(1):k;\
cards.sort(function(x,y){var p=x.getAttribute('data-'+a),r=y.getAttribute('data-'+a);\
var c=(a==='status')?p.localeCompare(r):(Number(p)-Number(r));return d?-c:c});\
cards.forEach(function(c){m.appendChild(c)});}\
var h=decodeURIComponent((location.hash.match(/^#q=(.*)$/)||[])[1]||'');if(h)q.value=h;\
q.addEventListener('input',apply);s.addEventListener('change',function(){order();apply()});\
order();apply();})();";

/// `'sha256-…'` of an inline block, for the Content-Security-Policy.
fn csp_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The whole page. `expiry` is printed in the header when the links expire.
pub(crate) fn render(title: &str, generated: &str, expiry: Option<&str>, cards: &[Card]) -> String {
    let mut h = String::with_capacity(4096 + cards.len() * 2048);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"script-src {}; style-src {}; object-src 'none'; base-uri 'none'; form-action 'none'\">\
<title>{}</title><style>{STYLE}</style></head><body>\n<header><strong>{}</strong>\
<input id=\"q\" type=\"search\" placeholder=\"filter: words in prompt, id, model, status, label\">\
<select id=\"sort\"><option value=\"-created\">newest</option><option value=\"created\">oldest</option>\
<option value=\"-tokens\">most tokens</option><option value=\"status\">status</option></select>\
<span id=\"count\">{} of {}</span><span class=\"meta\">generated {}{}</span></header>\n<main>\n",
        csp_hash(SCRIPT),
        csp_hash(STYLE),
        esc(title),
        esc(title),
        cards.len(),
        cards.len(),
        esc(generated),
        expiry
            .map(|e| format!(" · links expire {}", esc(e)))
            .unwrap_or_default(),
    );
    for c in cards {
        card(&mut h, c);
    }
    let _ = write!(h, "</main>\n<script>{SCRIPT}</script>\n</body></html>\n");
    h
}

fn card(h: &mut String, c: &Card) {
    let text = [
        c.display_id.as_str(),
        &c.local_id,
        &c.status,
        &c.model,
        &c.prompt,
        c.label.as_deref().unwrap_or(""),
    ]
    .join(" ")
    .to_lowercase();
    let _ = writeln!(
        h,
        "<article id=\"t-{}\" data-status=\"{}\" data-created=\"{}\" data-tokens=\"{}\" data-text=\"{}\">",
        esc(&c.local_id),
        esc(&c.status),
        c.created_at,
        c.tokens.unwrap_or(0),
        esc(&text),
    );
    if let Some(v) = &c.video {
        let poster = c
            .poster
            .as_ref()
            .map(|p| format!(" poster=\"{}\"", esc(p)))
            .unwrap_or_default();
        let _ = writeln!(
            h,
            "<video controls preload=\"none\" src=\"{}\"{poster}></video>",
            esc(v)
        );
    } else if let Some(p) = &c.poster {
        let _ = writeln!(
            h,
            "<img class=\"poster\" alt=\"last frame\" src=\"{}\">",
            esc(p)
        );
    }
    if let Some(s) = &c.sheet {
        let _ = writeln!(
            h,
            "<img class=\"sheet\" alt=\"contact sheet\" loading=\"lazy\" src=\"{}\">",
            esc(s)
        );
        let times: String = c
            .sheet_times
            .iter()
            .map(|t| format!("<span>{}</span>", esc(&crate::engine::sheet::clock(*t))))
            .collect();
        let _ = writeln!(h, "<div class=\"times\">{times}</div>");
    }
    let _ = writeln!(
        h,
        "<div class=\"meta\"><span class=\"id\">{}</span> · <span class=\"status status-{}\">{}</span> · {}</div>",
        esc(&c.display_id),
        esc(&c.status),
        esc(&c.status),
        esc(&c.model),
    );
    let _ = writeln!(h, "<p class=\"prompt\">{}</p>", esc(&c.prompt));
    h.push_str("<dl>");
    for (k, v) in &c.params {
        let _ = write!(h, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(v));
    }
    if let Some(t) = c.tokens {
        let cost = c
            .cost
            .as_ref()
            .map(|m| format!(" ({})", esc(m)))
            .unwrap_or_default();
        let _ = write!(h, "<dt>tokens</dt><dd class=\"tokens\">{t}{cost}</dd>");
    }
    if let Some(l) = &c.lineage {
        let _ = write!(h, "<dt>lineage</dt><dd class=\"lineage\">{}</dd>", esc(l));
    }
    if let Some(l) = &c.label {
        let _ = write!(h, "<dt>batch</dt><dd class=\"label\">{}</dd>", esc(l));
    }
    h.push_str("</dl>\n");
    for n in &c.notes {
        let _ = writeln!(h, "<p class=\"note\">{}</p>", esc(n));
    }
    h.push_str("</article>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_and_user_text_is_escaped_everywhere() {
        let evil = "<script>alert(1)</script>\"' onerror=x &";
        let card = Card {
            local_id: evil.into(),
            display_id: evil.into(),
            status: evil.into(),
            model: evil.into(),
            prompt: evil.into(),
            params: vec![(evil.into(), evil.into())],
            lineage: Some(evil.into()),
            label: Some(evil.into()),
            notes: vec![evil.into()],
            tokens: Some(1),
            cost: Some(evil.into()),
            ..Card::default()
        };
        let page = render(evil, evil, Some(evil), &[card]);
        // The page's own script is the only one.
        assert_eq!(page.matches("<script>").count(), 1, "{page}");
        assert!(!page.contains("\" onerror"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39; onerror=x &amp;"));
    }

    #[test]
    fn links_are_relative_paths_or_http() {
        assert_eq!(href_path("../vids/a b#1?.mp4"), "../vids/a%20b%231%3F.mp4");
        assert_eq!(href_url("javascript:alert(1)"), None);
        assert_eq!(href_url(" data:text/html,x"), None);
        assert_eq!(
            href_url("https://x.test/a.mp4?X-Amz-Signature=1").as_deref(),
            Some("https://x.test/a.mp4?X-Amz-Signature=1")
        );
    }

    #[test]
    fn the_policy_names_the_page_s_own_script() {
        let page = render("t", "now", None, &[]);
        let hash = csp_hash(SCRIPT);
        assert!(page.contains(&format!("script-src {hash}")));
        assert!(page.contains(&format!("<script>{SCRIPT}</script>")));
    }
}
