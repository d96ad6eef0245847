//! A synthetic history the storage benches share (`sled_layout`, `engines`): the same
//! bytes every run, laid out as the store lays out its entries. Included with
//! `#[path = "common/history.rs"] mod history;` (not a bench of its own).

#![allow(dead_code)] // each bench uses some of these

/// Conversations the messages are spread over, round robin, across 3 accounts.
pub const CONVERSATIONS: u64 = 300;
/// Messages a batch, as a catch-up writes them.
pub const BATCH: u64 = 10_000;

/// A fixed pseudo-random stream (xorshift): the same bytes every run.
pub struct Stream(pub u64);

impl Stream {
    pub fn new() -> Self {
        Stream(0x9e37_79b9_7f4a_7c15)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// `len` hexadecimal digits.
    pub fn hex(&mut self, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 16);
        while out.len() < len {
            out.extend_from_slice(format!("{:016x}", self.next()).as_bytes());
        }
        out.truncate(len);
        out
    }

    /// One message's content: its record (150 bytes) and its three ids (a local id of
    /// 36 characters, archive and origin ids of 24).
    pub fn message(&mut self) -> (Vec<u8>, [Vec<u8>; 3]) {
        let record = self.hex(150);
        (record, [self.hex(36), self.hex(24), self.hex(24)])
    }
}

/// A length-prefixed string, as the store's keys hold them.
pub fn text(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s);
}

/// The key prefix of the account a conversation belongs to.
pub fn account(conversation: u64) -> Vec<u8> {
    let mut key = Vec::new();
    text(&mut key, format!("account-{}", conversation % 3).as_bytes());
    key
}

/// The key prefix of a conversation: its account, then its address.
pub fn conversation(conversation: u64) -> Vec<u8> {
    let mut key = account(conversation);
    text(
        &mut key,
        format!("xmpp:contact{conversation}@example.org").as_bytes(),
    );
    key
}

/// A message's entries by tree, in [`TREES`]' order.
pub type Entries = [Vec<(Vec<u8>, Vec<u8>)>; 3];

/// The trees the store writes for a message.
pub const TREES: [&str; 3] = ["history", "local_ids", "known_ids"];

/// Message `n`'s entries as the store lays them out today (schema 5), appended to
/// `out`: its record in `history` (keyed by account, conversation, place and sequence),
/// its local id in `local_ids`, its archive and origin ids in `known_ids`.
pub fn today(out: &mut Entries, n: u64, record: Vec<u8>, ids: &[Vec<u8>; 3]) {
    let conv = n % CONVERSATIONS;
    let mut key = conversation(conv);
    key.extend_from_slice(&(n / CONVERSATIONS).to_be_bytes());
    key.extend_from_slice(&n.to_be_bytes());
    let tail = key[key.len() - 16..].to_vec();
    out[0].push((key, record));
    let mut local = account(conv);
    text(&mut local, &ids[0]);
    out[1].push((local, tail.clone()));
    for id in &ids[1..] {
        let mut known = conversation(conv);
        known.push(b'S');
        text(&mut known, id);
        let mut value = tail.clone();
        value.extend_from_slice(&[1, 0, 0, 0, 0, 0]);
        out[2].push((known, value));
    }
}
