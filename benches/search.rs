//! Search benchmark of issue #19 (plain binary, `harness = false`); prints its figures.
//!
//! `cargo bench --no-default-features --bench search`
//!
//! A generated history of N messages (default 1,000,000; `LOQUAT_BENCH_MESSAGES=N`):
//! every other one Chinese (words from a list of common ones, run together without
//! spaces as people write, 4-60 characters), the others English (3-30 words), 3
//! accounts, 200 conversations (50 of them rooms), 2 % with a link, 1 % with a file, a
//! few rare words. Messages are made from their number alone, so nothing but the index
//! holds them in memory.
//!
//! - Index build: the messages go through the same path as the store's hook
//!   ([`SearchIndex::feed`], batches of 250) into an index on disk; the rate counts up
//!   to the last commit.
//! - Size: the index folder against the raw UTF-8 text of the bodies.
//! - Memory: VmRSS of a child process that opens the built index and searches (before
//!   the index is opened, with it open, after all searches).
//! - Latency of 20 fixed queries to the first page (20 hits, each with its snippet):
//!   median and 99th percentile over 25 runs each (after one warm-up run).
//! - Side by side (when the `sqlite3` command is there): the same text in SQLite, the
//!   same queries with `LIKE '%q%'` and with an FTS5 `unicode61` table (what Gajim,
//!   Kaidan, Dino and Conversations do), first page latency, and how many of the
//!   messages that really hold each Chinese query each one finds.
//!
//! Under `cargo test --all-targets` (no `--bench` argument) it indexes 300 messages,
//! checks one query and prints nothing worth reading.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use loquat::ids::{AccountId, ConversationId, LocalMessageId};
use loquat::model::{Attachment, ChatMessage, Delivery, Direction};
use loquat::search::{Filters, SearchIndex, Sender, snippet};
use loquat::store::Store;
use std::io::Write;
use std::time::{Duration, Instant};
use xmpp_parsers::jid::BareJid;

const ZH: &[&str] = &[
    "我们",
    "今天",
    "明天",
    "开会",
    "讨论",
    "报告",
    "项目",
    "时间",
    "问题",
    "朋友",
    "工作",
    "电脑",
    "手机",
    "晚饭",
    "周末",
    "电影",
    "学习",
    "老师",
    "学生",
    "公司",
    "客户",
    "文件",
    "发送",
    "收到",
    "谢谢",
    "没有",
    "知道",
    "觉得",
    "可以",
    "需要",
    "已经",
    "还是",
    "一下",
    "什么",
    "怎么",
    "为什么",
    "这个",
    "那个",
    "因为",
    "所以",
    "但是",
    "如果",
    "下午",
    "上午",
    "晚上",
    "早上",
    "北京",
    "上海",
    "天气",
    "下雨",
    "咖啡",
    "火车",
    "飞机",
    "医院",
    "银行",
    "超市",
    "价格",
    "会议",
    "计划",
    "合同",
    "设计",
    "代码",
    "测试",
    "服务器",
    "数据库",
    "你好",
    "好的",
    "是的",
    "不是",
    "我",
    "你",
    "他",
    "她",
    "的",
    "了",
    "在",
    "是",
    "有",
    "和",
    "也",
    "都",
    "很",
    "去",
    "来",
    "看",
    "说",
    "吃",
    "想",
    "要",
    "会",
    "能",
    "一起",
    "准备",
    "回家",
];
const EN: &[&str] = &[
    "the", "a", "to", "and", "of", "in", "is", "it", "you", "that", "we", "for", "on", "are",
    "with", "be", "this", "have", "not", "at", "can", "will", "see", "tomorrow", "today",
    "meeting", "report", "project", "server", "database", "please", "thanks", "send", "file",
    "when", "what", "where", "lunch", "dinner", "coffee", "train", "late", "sorry", "great",
    "sounds", "good", "yes", "no", "maybe", "call", "later", "weekend", "movie", "code", "review",
    "test", "release", "bug", "fixed", "deploy", "Café", "naïve", "résumé", "budget", "quarter",
    "numbers", "draft", "slides", "morning", "evening", "office", "home", "let", "me", "know",
    "think", "about", "again", "just", "now", "really", "nice",
];

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        // splitmix64 of the seed, so neighbouring seeds start far apart.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[self.below(list.len() as u64) as usize]
    }
}

const START_MS: i64 = 1_600_000_000_000;
const CONVERSATIONS: u64 = 200;
const ROOMS_FROM: u64 = 150;

fn conversation(c: u64) -> ConversationId {
    if c >= ROOMS_FROM {
        ConversationId::Room(BareJid::new(&format!("room{c}@conference.example.org")).unwrap())
    } else {
        ConversationId::Chat(BareJid::new(&format!("friend{c}@example.org")).unwrap())
    }
}

/// The text of message `i` and what else it has: (body, conversation, incoming, file).
fn text(i: u64) -> (String, u64, bool, bool) {
    let mut r = Rng::new(i);
    let conv = r.below(CONVERSATIONS);
    let incoming = r.below(2) == 0;
    let mut body = String::new();
    if i.is_multiple_of(2) {
        let chars = 4 + r.below(57) as usize;
        while body.chars().count() < chars {
            body.push_str(r.pick(ZH));
            match r.below(12) {
                0 => body.push('，'),
                1 => body.push('。'),
                _ => {}
            }
        }
        if r.below(2_000) == 0 {
            body.push_str("麒麟");
        }
        if r.below(30) == 0 {
            body.push_str("PDF");
        }
    } else {
        let words = 3 + r.below(28);
        for w in 0..words {
            if w > 0 {
                body.push(' ');
            }
            body.push_str(r.pick(EN));
        }
        if r.below(40_000) == 0 {
            body.push_str(" zyzzyva");
        }
        if r.below(20) == 0 {
            body.push_str(" see you tomorrow");
        }
        if r.below(25) == 0 {
            body.push_str(" the PDF 报告");
        }
    }
    if r.below(50) == 0 {
        body.push_str(&format!(" https://example.org/doc/{i}"));
    }
    let file = r.below(100) == 0;
    (body, conv, incoming, file)
}

fn message(i: u64) -> ChatMessage {
    let (body, conv, incoming, file) = text(i);
    let conversation = conversation(conv);
    let room = conversation.is_room();
    ChatMessage {
        id: LocalMessageId(format!("m{i}")),
        account: AccountId(format!("account{}", conv % 3)),
        conversation,
        direction: if incoming {
            Direction::Incoming
        } else {
            Direction::Outgoing
        },
        sender: if room && incoming {
            format!("nick{}", i % 17)
        } else {
            String::new()
        },
        body,
        timestamp_ms: START_MS + i as i64 * 1_000,
        stanza_id_attr: None,
        origin_id: None,
        server_id: None,
        delivery: Delivery::Delivered,
        attachment: file.then(|| {
            Box::new(Attachment {
                url: format!("https://example.org/f/{i}.pdf"),
                name: format!("{i}.pdf"),
                size: None,
                mime: None,
            })
        }),
        truncated: false,
        extras: Default::default(),
    }
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn dir_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|es| {
            es.filter_map(|e| e.ok()?.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

struct Q {
    text: &'static str,
    filters: Filters,
    /// A Chinese substring whose true matches are counted.
    chinese: bool,
}

fn queries(n: u64) -> Vec<Q> {
    let q = |text, chinese| Q {
        text,
        filters: Filters::default(),
        chinese,
    };
    let with = |text, filters| Q {
        text,
        filters,
        chinese: false,
    };
    let last_tenth = START_MS + (n as i64 * 9 / 10) * 1_000;
    vec![
        q("报告", true),
        q("服务器", true),
        q("会议", true),
        q("麒麟", true),
        q("天开", true),
        q("下雨", true),
        q("的", true),
        q("数据库测试", true),
        q("report", false),
        q("meeting tomorrow", false),
        q("\"see you tomorrow\"", false),
        q("zyzzyva", false),
        q("the", false),
        q("PDF 报告", false),
        with(
            "报告",
            Filters {
                account: Some(AccountId("account1".into())),
                ..Filters::default()
            },
        ),
        with(
            "report",
            Filters {
                conversation: Some(conversation(7)),
                ..Filters::default()
            },
        ),
        with(
            "会议",
            Filters {
                since_ms: Some(last_tenth),
                ..Filters::default()
            },
        ),
        with(
            "report",
            Filters {
                has_link: true,
                ..Filters::default()
            },
        ),
        with(
            "咖啡",
            Filters {
                from: Some(Sender::Contact(
                    BareJid::new("friend12@example.org").unwrap(),
                )),
                ..Filters::default()
            },
        ),
        with(
            "server database",
            Filters {
                account: Some(AccountId("account2".into())),
                has_file: true,
                ..Filters::default()
            },
        ),
    ]
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// One first page: the hits and a snippet of each (text made again from the id).
fn first_page(index: &SearchIndex, q: &Q) -> usize {
    let hits = index.search(q.text, &q.filters, 20).unwrap();
    for h in &hits {
        let i: u64 = h.id.0[1..].parse().unwrap();
        let s = snippet(&text(i).0, q.text, 80);
        std::hint::black_box(s);
    }
    hits.len()
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let n: u64 = if full {
        std::env::var("LOQUAT_BENCH_MESSAGES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1_000_000)
    } else {
        300
    };
    // The search part runs in a child process, so its memory is the search's alone.
    if let Ok(dir) = std::env::var(CHILD) {
        search_part(std::path::Path::new(&dir), n);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let index_dir = dir.path().join("search");
    let store = Store::open_temporary().unwrap();

    // Build.
    let started = Instant::now();
    let mut raw_bytes = 0u64;
    {
        let index = SearchIndex::open_with(&store, Some(&index_dir), Default::default()).unwrap();
        let mut batch = Vec::with_capacity(250);
        for i in 0..n {
            let m = message(i);
            raw_bytes += m.body.len() as u64;
            batch.push(m);
            if batch.len() == 250 {
                index.feed(&batch);
                batch.clear();
            }
        }
        index.feed(&batch);
        index.sync().unwrap();
        assert_eq!(index.len(), n);
    }
    let build = started.elapsed();
    let size = dir_size(&index_dir);
    if !full {
        search_part(dir.path(), n);
        return;
    }
    println!("search bench: {n} messages, 3 accounts, {CONVERSATIONS} conversations");
    println!(
        "index build: {:.1} s, {:.0} msgs/s (generating the messages included)",
        build.as_secs_f64(),
        n as f64 / build.as_secs_f64()
    );
    println!(
        "index size: {:.1} MiB for {:.1} MiB of raw text ({:.2}x, {:.0} bytes a message)",
        size as f64 / 1048576.0,
        raw_bytes as f64 / 1048576.0,
        size as f64 / raw_bytes as f64,
        size as f64 / n as f64
    );
    let mut by_kind: std::collections::BTreeMap<String, u64> = Default::default();
    for e in std::fs::read_dir(&index_dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let ext = name.rsplit_once('.').map_or("-", |(_, x)| x).to_owned();
        *by_kind.entry(ext).or_default() += e.metadata().unwrap().len();
    }
    let parts: Vec<String> = by_kind
        .iter()
        .map(|(k, v)| format!("{k} {:.1}", *v as f64 / 1048576.0))
        .collect();
    println!("index files (MiB): {}", parts.join(", "));
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .arg("--bench")
        .env(CHILD, dir.path())
        .env("LOQUAT_BENCH_MESSAGES", n.to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

const CHILD: &str = "LOQUAT_BENCH_SEARCH_CHILD";

/// Opens the index built in `dir`/search, searches, and compares with SQLite.
fn search_part(dir: &std::path::Path, n: u64) {
    let full = std::env::args().any(|a| a == "--bench");
    let index_dir = dir.join("search");
    let rss_start = rss_kib();
    let store = Store::open_temporary().unwrap();
    let index = SearchIndex::open_with(&store, Some(&index_dir), Default::default()).unwrap();
    let size = dir_size(&index_dir);
    let qs = queries(n);
    if !full {
        assert!(index.count("报告", &Filters::default()).unwrap() > 0);
        assert!(first_page(&index, &qs[0]) > 0);
        return;
    }
    let rss_open = rss_kib();
    let mut all = Vec::new();
    let mut rows = Vec::new();
    for q in &qs {
        first_page(&index, q);
        let mut times = Vec::new();
        let mut hits = 0;
        for _ in 0..25 {
            let t = Instant::now();
            hits = first_page(&index, q);
            times.push(t.elapsed());
        }
        times.sort();
        all.extend(times.iter().copied());
        let count = index.count(q.text, &q.filters).unwrap();
        rows.push((
            q,
            times[times.len() / 2],
            percentile(&times, 0.99),
            hits,
            count,
        ));
    }
    let rss_search = rss_kib();
    all.sort();
    println!(
        "RSS of the searching process: {:.1} MiB before the index, {:.1} MiB with it open, {:.1} MiB after the searches",
        rss_start as f64 / 1024.0,
        rss_open as f64 / 1024.0,
        rss_search as f64 / 1024.0
    );
    println!(
        "all queries: median {}, p99 {}",
        ms(percentile(&all, 0.5)),
        ms(percentile(&all, 0.99))
    );

    // The truth for the Chinese queries, and SQLite.
    let chinese: Vec<&str> = qs.iter().filter(|q| q.chinese).map(|q| q.text).collect();
    let mut truth = vec![0usize; chinese.len()];
    for i in 0..n {
        let body = text(i).0;
        for (t, q) in truth.iter_mut().zip(&chinese) {
            if body.contains(q) {
                *t += 1;
            }
        }
    }
    let sqlite = Sqlite::build(dir, n);
    println!();
    println!(
        "| query | filters | Loquat median | Loquat p99 | Loquat matches | LIKE first page | FTS5 first page | LIKE matches | FTS5 matches | really |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for (q, median, p99, _hits, count) in &rows {
        let f = describe(&q.filters);
        let really = chinese
            .iter()
            .position(|c| *c == q.text && q.chinese)
            .map(|at| truth[at].to_string())
            .unwrap_or_default();
        let (like, fts) = match (&sqlite, f.is_empty()) {
            (Some(s), true) => (s.run(q.text, true), s.run(q.text, false)),
            _ => (None, None),
        };
        let show = |r: &Option<(Duration, usize)>, what: usize| match r {
            Some((t, c)) => {
                if what == 0 {
                    ms(*t)
                } else {
                    c.to_string()
                }
            }
            None => String::new(),
        };
        println!(
            "| `{}` | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            q.text,
            f,
            ms(*median),
            ms(*p99),
            count,
            show(&like, 0),
            show(&fts, 0),
            show(&like, 1),
            show(&fts, 1),
            really
        );
    }
    if let Some(s) = &sqlite {
        println!(
            "SQLite: table built in {:.1} s, FTS5 in {:.1} s; file {:.1} MiB with FTS5",
            s.load.as_secs_f64(),
            s.fts.as_secs_f64(),
            dir_size(dir) as f64 / 1048576.0 - size as f64 / 1048576.0
        );
    } else {
        println!("(no sqlite3 command: the SQLite columns are empty)");
    }
}

fn describe(f: &Filters) -> String {
    let mut out = Vec::new();
    if f.account.is_some() {
        out.push("account");
    }
    if f.conversation.is_some() {
        out.push("in");
    }
    if f.from.is_some() {
        out.push("from");
    }
    if f.since_ms.is_some() || f.until_ms.is_some() {
        out.push("date");
    }
    if f.has_file {
        out.push("file");
    }
    if f.has_link {
        out.push("link");
    }
    out.join(", ")
}

/// The same bodies in SQLite, through the `sqlite3` command.
struct Sqlite {
    db: std::path::PathBuf,
    load: Duration,
    fts: Duration,
}

impl Sqlite {
    fn build(dir: &std::path::Path, n: u64) -> Option<Sqlite> {
        std::process::Command::new("sqlite3")
            .arg("-version")
            .output()
            .ok()?;
        let tsv = dir.join("bodies.tsv");
        {
            let mut w = std::io::BufWriter::new(std::fs::File::create(&tsv).unwrap());
            for i in 0..n {
                writeln!(w, "{}\t{}", i + 1, text(i).0.replace(['\t', '"'], " ")).unwrap();
            }
        }
        let db = dir.join("bench.sqlite");
        let t = Instant::now();
        sql(
            &db,
            &format!(
                "CREATE TABLE msgs(id INTEGER PRIMARY KEY, body TEXT);\n.mode tabs\n.import {} msgs\n",
                tsv.display()
            ),
        );
        let load = t.elapsed();
        let t = Instant::now();
        sql(
            &db,
            "CREATE VIRTUAL TABLE fts USING fts5(body, content='msgs', content_rowid='id', tokenize='unicode61');\nINSERT INTO fts(fts) VALUES('rebuild');\n",
        );
        let fts = t.elapsed();
        let _ = std::fs::remove_file(&tsv);
        Some(Sqlite { db, load, fts })
    }

    /// First-page time (20 newest) and the number of matches.
    fn run(&self, q: &str, like: bool) -> Option<(Duration, usize)> {
        let (page, count) = if like {
            // Each space-separated part must be there, like the chunks of a Loquat query.
            let parts: Vec<String> = q
                .replace('"', "")
                .split_whitespace()
                .map(|p| format!("body LIKE '%{p}%'"))
                .collect();
            let cond = if q.contains('"') {
                format!("body LIKE '%{}%'", q.replace('"', ""))
            } else {
                parts.join(" AND ")
            };
            (
                format!("SELECT id FROM msgs WHERE {cond} ORDER BY id DESC LIMIT 20;"),
                format!("SELECT count(*) FROM msgs WHERE {cond};"),
            )
        } else {
            // FTS5 syntax: a quoted string is a phrase, strings side by side must all match.
            let m = if q.contains('"') {
                q.to_owned()
            } else {
                q.split_whitespace()
                    .map(|p| format!("\"{p}\""))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            (
                format!(
                    "SELECT rowid FROM fts WHERE fts MATCH '{m}' ORDER BY rowid DESC LIMIT 20;"
                ),
                format!("SELECT count(*) FROM fts WHERE fts MATCH '{m}';"),
            )
        };
        // Warm once, then the median of five timed runs (SQLite's own timer).
        let mut times = Vec::new();
        for _ in 0..6 {
            let out = sql(&self.db, &format!(".timer on\n{page}\n"));
            let real = out
                .lines()
                .find_map(|l| l.strip_prefix("Run Time: real "))
                .and_then(|l| l.split_whitespace().next()?.parse::<f64>().ok())?;
            times.push(Duration::from_secs_f64(real));
        }
        times.remove(0);
        times.sort();
        let count = sql(&self.db, &count).trim().parse().ok()?;
        Some((times[times.len() / 2], count))
    }
}

fn sql(db: &std::path::Path, script: &str) -> String {
    let mut child = std::process::Command::new("sqlite3")
        .arg(db)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    if !out.status.success() {
        eprintln!("sqlite3: {}", String::from_utf8_lossy(&out.stderr));
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}
