//! One async XMPP session per account, as a stream of [`Update`]s driven by [`Command`]s.
//!
//! No iced here: the UI wraps [`run`] in a subscription. `actor` owns the stanza stream
//! alone; `connect` is our own transport (trust, SASL policy); `xmpp` does the protocol.

use crate::ids::{AccountId, ConversationId, LocalMessageId};
use crate::model::{ChatMessage, Contact, Delivery, ServerOverride, Show, Trust};
use std::fmt;
use std::time::Duration;
use tokio::sync::mpsc;
use xmpp_parsers::jid::{BareJid, FullJid, Jid};

pub use xmpp_parsers::chatstates::ChatState;

mod actor;
pub mod avatars;
pub mod binding;
pub mod connect;
pub mod files;
pub mod flood;
pub mod handover;
mod history_sync;
pub mod insecure;
pub mod omemo;
mod order;
mod outgoing;
pub mod own_profile;
pub mod profile;
pub mod register;
pub mod room_faces;
pub mod rooms;
pub mod roomtools;
mod sasl_login;
pub mod xml_guard;

pub use actor::run;
pub use history_sync::MAX_FORWARD_PAGES;

/// Everything a session needs to start.
#[derive(Clone)]
pub struct SessionParams {
    pub account: AccountId,
    pub jid: BareJid,
    pub password: String,
    pub server: ServerOverride,
    pub trust: Trust,
    /// Resource to ask for; the server picks one when `None`.
    pub resource: Option<String>,
    /// Where messages and the roster are persisted before they are shown.
    pub store: Option<crate::store::Store>,
    /// Onboarding check: until the first login works, any connection failure is final
    /// (no retry) so the form can show it at once; after that the session is the
    /// account's own (see `handover`) and reconnects as any other.
    pub verify_only: bool,
    /// PLAIN login allowed when the server offers no SCRAM (the account's choice; with
    /// a store, its preference `connect::allow_plain_pref` allows it too).
    pub allow_plain: bool,
    /// The key sealing this account's OMEMO state (`omemo::sealed::keyring_key`): OMEMO
    /// is on when there is one (state in `store`, or in memory without a store).
    pub omemo_key: Option<crate::omemo::AtRestKey>,
}

impl fmt::Debug for SessionParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionParams")
            .field("account", &self.account)
            .field("jid", &self.jid)
            .field("password", &"<hidden>")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

/// What the UI (or a test) asks a session to do.
#[derive(Debug, Clone)]
pub enum Command {
    /// Send a 1:1 chat message. The message is stored before it is sent.
    SendChat {
        to: BareJid,
        body: String,
        id: LocalMessageId,
    },
    SetPresence {
        show: Show,
        status: Option<String>,
    },
    /// Add or rename a roster item; `subscribe` also asks for their presence.
    AddContact {
        jid: BareJid,
        name: Option<String>,
        subscribe: bool,
    },
    RemoveContact {
        jid: BareJid,
    },
    /// Set a contact's name and put it in exactly these roster groups.
    SetContactGroups {
        jid: BareJid,
        name: Option<String>,
        groups: Vec<String>,
    },
    /// Rename a roster group: one roster set per member, each keeping its other groups
    /// (RFC 6121 has no group object; an empty `to` takes them out of it).
    RenameGroup {
        from: String,
        to: String,
    },
    /// Answer an incoming subscription request.
    AnswerSubscription {
        jid: BareJid,
        accept: bool,
    },
    /// Send a stored outgoing message again, with its original id (after a failure).
    Resend {
        id: LocalMessageId,
    },
    /// Tell `peer` we have seen their messages up to the one whose stanza id is `id`
    /// (XEP-0333). Send only while the conversation is on screen and the window focused.
    MarkDisplayed {
        peer: BareJid,
        id: String,
    },
    /// Fetch one page of the conversation with `peer` from the account's archive
    /// (XEP-0313, `with` the contact) before the archive id `before` (its newest page
    /// when `None`); what is new is stored (not as unread), then comes back as
    /// [`UpdateKind::ChatOlder`]. Older history than a first sign-in fetched, on request.
    ChatLoadOlder {
        peer: BareJid,
        before: Option<String>,
        /// The oldest message time on screen: the page sorts before it (archive stamps
        /// have whole seconds, so one may share its second).
        below_ms: Option<i64>,
    },
    /// The conversation with `peer` is on screen (or none is, for this account): a
    /// long archive catch-up fetches its newest page first.
    Viewing {
        peer: Option<BareJid>,
    },
    /// Find the account's HTTP upload service and its size limit (XEP-0363).
    FindUploadService {
        reply: files::Reply<
            Result<crate::xmpp::upload::UploadService, crate::xmpp::upload::SlotError>,
        >,
    },
    /// Ask the upload service for a slot for one file.
    RequestSlot {
        service: Jid,
        filename: String,
        size: u64,
        content_type: Option<String>,
        reply: files::Reply<Result<crate::xmpp::upload::Slot, crate::xmpp::upload::SlotError>>,
    },
    /// Share an uploaded file: its URL as body and OOB element; stored before it is sent.
    SendAttachment {
        to: BareJid,
        attachment: crate::model::Attachment,
        id: LocalMessageId,
    },
    /// Correct our message `target` (XEP-0308): its text becomes `body` (the earlier
    /// ones are kept as versions), stored first, then sent as a correction with id `id`.
    Correct {
        conversation: ConversationId,
        target: LocalMessageId,
        body: String,
        id: LocalMessageId,
    },
    /// Set our reactions to message `target` (XEP-0444): `emojis` is our whole set
    /// (empty removes ours). In chats stored at once; in rooms when the room reflects it
    /// (it says which occupant id the reaction is under).
    React {
        conversation: ConversationId,
        target: LocalMessageId,
        emojis: Vec<String>,
    },
    /// Retract our message `target` for everyone (XEP-0424); its text is removed from
    /// the store first.
    Retract {
        conversation: ConversationId,
        target: LocalMessageId,
    },
    /// As a room moderator, remove message `target` of `room` for everyone (XEP-0425)
    /// with an optional reason. Nothing changes here until the room announces the
    /// removal (as for everyone); a refusal comes back as a notice.
    Moderate {
        room: BareJid,
        target: LocalMessageId,
        reason: Option<String>,
    },
    /// Send `body` as a reply to message `to` (XEP-0461), with a quote of it as a
    /// fallback (XEP-0428) for clients without replies; stored first, like a message.
    Reply {
        conversation: ConversationId,
        to: LocalMessageId,
        body: String,
        id: LocalMessageId,
    },
    /// Tell the conversation we are typing, paused, active… (XEP-0085). Sent only while
    /// `config::Settings::chat_states` is on; the UI throttles.
    SendChatState {
        conversation: ConversationId,
        state: ChatState,
    },
    /// Block these addresses (XEP-0191), with a spam report each (XEP-0377) when
    /// `report` and the server takes reports. Refused in words when the server does
    /// not block.
    Block {
        jids: Vec<Jid>,
        report: bool,
    },
    /// Unblock these addresses.
    Unblock {
        jids: Vec<Jid>,
    },
    /// End the session cleanly.
    Disconnect,
    // --- group chat (XEP-0045) ---
    /// Join a room (also to rejoin after leaving or being kicked).
    JoinRoom {
        room: BareJid,
        nick: String,
        password: Option<String>,
    },
    /// Leave a room; its bookmark stays but no longer joins by itself.
    LeaveRoom {
        room: BareJid,
    },
    /// Remove a room's bookmark (XEP-0402, or private storage on older servers): the
    /// next sign-in does not join it.
    ForgetBookmark {
        room: BareJid,
    },
    /// Turn joining at sign-in on or off for a bookmarked room.
    SetBookmarkAutojoin {
        room: BareJid,
        autojoin: bool,
    },
    /// Send a groupchat message; stored first, acknowledged when the room reflects it.
    SendRoom {
        room: BareJid,
        body: String,
        id: LocalMessageId,
    },
    /// Share an uploaded file in a room: a groupchat message with the URL as body and
    /// an OOB element; stored first, acknowledged when the room reflects it.
    SendRoomAttachment {
        room: BareJid,
        attachment: crate::model::Attachment,
        id: LocalMessageId,
    },
    /// Fetch one page of a room's archive (XEP-0313) before the archive id `before`
    /// (the newest page when `None`); the new messages are stored, then come back as
    /// [`UpdateKind::RoomOlder`].
    RoomLoadOlder {
        room: BareJid,
        before: Option<String>,
    },
    SetSubject {
        room: BareJid,
        subject: String,
    },
    ChangeNick {
        room: BareJid,
        nick: String,
    },
    /// Invite someone: directly (XEP-0249) or mediated by the room.
    InviteToRoom {
        room: BareJid,
        to: BareJid,
        reason: Option<String>,
        direct: bool,
    },
    /// Decline a mediated invitation.
    DeclineInvite {
        room: BareJid,
        inviter: BareJid,
    },
    /// As an owner, submit the room configuration form with these fields (XEP-0004;
    /// `FORM_TYPE` is added).
    ConfigureRoom {
        room: BareJid,
        fields: Vec<(String, Vec<String>)>,
    },
    /// A private message to one occupant of a room (XEP-0045 §7.5); stored first, in
    /// its own conversation.
    SendPrivate {
        room: BareJid,
        nick: String,
        body: String,
        id: LocalMessageId,
    },
    /// An IQ whose answer payload comes back as it is (room configuration forms,
    /// service discovery); see [`roomtools`] for the typed requests built on it.
    Query {
        to: Jid,
        get: bool,
        payload: xmpp_parsers::minidom::Element,
        reply: files::Reply<Result<Option<xmpp_parsers::minidom::Element>, roomtools::QueryError>>,
    },
    /// As a moderator, remove someone from a room.
    KickOccupant {
        room: BareJid,
        nick: String,
        reason: Option<String>,
    },
    /// As a moderator, give an occupant a role: voice (participant), no voice
    /// (visitor), moderator, or none (a kick).
    SetRole {
        room: BareJid,
        nick: String,
        role: rooms::Role,
        reason: Option<String>,
    },
    /// As the owner, destroy the room; everyone in it is told the reason.
    DestroyRoom {
        room: BareJid,
        reason: Option<String>,
    },
    /// As an admin or owner, set a user's affiliation with the room (outcast bans).
    SetAffiliation {
        room: BareJid,
        jid: BareJid,
        affiliation: rooms::Affiliation,
        reason: Option<String>,
    },
    /// Report this conversation's OMEMO devices (`UpdateKind::Omemo`), fetching the
    /// contact's device list first when it is not known yet.
    OmemoStatus {
        peer: BareJid,
    },
    /// Accept the changed identity key of `jid`'s `device` (in `peer`'s conversation),
    /// the one whose `fingerprint` the person was shown; then report `peer` again.
    OmemoAcceptKey {
        peer: BareJid,
        jid: BareJid,
        device: u32,
        fingerprint: String,
    },
    /// Publish `picture` (the bytes of an image file the user chose) as our avatar:
    /// cropped to a square, scaled, then to PEP (XEP-0084) and our vCard (XEP-0153; left
    /// to the server where it converts, XEP-0398).
    PublishAvatar {
        picture: avatars::Picture,
    },
}

/// Why a session is not working, in a form the UI can put in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionError {
    /// The server rejected the address or password.
    Auth { condition: String },
    /// The server's certificate is not trusted for the account's domain.
    Certificate {
        reason: String,
        /// SHA-256 of the leaf certificate, lower-case hex.
        fingerprint_sha256: String,
        /// DNS names the certificate was issued for.
        names: Vec<String>,
    },
    /// The server could not be reached (DNS, TCP, TLS handshake I/O).
    Unreachable { detail: String },
    /// The server offers no login we consider safe (e.g. only ANONYMOUS or no TLS).
    InsecureLogin { detail: String },
    /// The server broke the protocol or the stream died in a way we did not expect.
    Protocol { detail: String },
    /// No answer in time.
    Timeout,
}

impl SessionError {
    /// Errors after which we wait for the user instead of retrying.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            SessionError::Auth { .. }
                | SessionError::Certificate { .. }
                | SessionError::InsecureLogin { .. }
        )
    }
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionError::Auth { condition } => write!(f, "authentication failed ({condition})"),
            SessionError::Certificate {
                reason,
                fingerprint_sha256,
                names,
            } => write!(
                f,
                "certificate not trusted: {reason}; SHA-256 {fingerprint_sha256}; issued for {}",
                names.join(", ")
            ),
            SessionError::Unreachable { detail } => write!(f, "server unreachable: {detail}"),
            SessionError::InsecureLogin { detail } => {
                write!(f, "server refuses secure login: {detail}")
            }
            SessionError::Protocol { detail } => write!(f, "protocol error: {detail}"),
            SessionError::Timeout => write!(f, "no answer from the server in time"),
        }
    }
}

/// Something that happened in a session. Every update carries its account.
#[derive(Debug, Clone)]
pub struct Update {
    pub account: AccountId,
    pub kind: UpdateKind,
}

#[derive(Debug, Clone)]
pub enum UpdateKind {
    /// First item of every session: how to send it commands.
    Ready(Handle),
    /// Trying to connect (attempt number, starting at 1).
    Connecting {
        attempt: u32,
    },
    /// Signed in. `mechanism` is the SASL mechanism that was used.
    Online {
        bound: FullJid,
        mechanism: String,
        resumed: bool,
    },
    /// Lost the connection; retrying in `retry_in_secs` when set.
    Disconnected {
        error: SessionError,
        retry_in_secs: Option<u64>,
    },
    /// A fatal error: the session has stopped and waits for the user.
    Failed(SessionError),
    /// The full roster (after login or from the cache).
    Roster(Vec<Contact>),
    /// One roster item was added or changed.
    ContactChanged(Contact),
    ContactRemoved(BareJid),
    /// Presence of one resource of a contact (aggregate in the UI).
    Presence {
        from: Jid,
        show: Show,
        status: Option<String>,
    },
    /// Someone asks to see our presence.
    SubscriptionRequest {
        from: BareJid,
    },
    /// A message that has been stored (incoming, carbon, or our own outgoing).
    Message(ChatMessage),
    /// Older messages filled in from the server archive on a first sign-in: stored
    /// already, not new to the user, so they count as read.
    History(Vec<ChatMessage>),
    /// An outgoing message moved on.
    Delivery {
        id: LocalMessageId,
        state: Delivery,
    },
    /// Something the user should read that is not tied to a message.
    Notice(String),
    /// A stored message changed (corrected, reacted to, retracted, moderated): the
    /// message as it is stored now, to put in place of the one shown.
    MessageChanged(ChatMessage),
    /// Someone is typing (or paused, or left) in a conversation: not stored. `nick`
    /// says who in a room.
    ChatState {
        conversation: ConversationId,
        nick: Option<String>,
        state: ChatState,
    },
    /// Group chat: room state, occupants, invitations, bookmarks.
    Room(rooms::RoomUpdate),
    /// The account's blocklist as the server keeps it (after sign-in, a change by us or
    /// by another of our clients), and whether the server blocks and takes reports.
    Blocklist {
        items: Vec<Jid>,
        supported: bool,
        reporting: bool,
    },
    /// A block (or unblock) was not done: the server refused, or does not block.
    BlockRefused {
        block: bool,
        jids: Vec<Jid>,
        error: String,
    },
    /// The archive catch-up of this stream has ended: everything the server archive
    /// holds for this account is stored (or the archive could not be read to the end).
    CaughtUp,
    /// The server archive no longer reached back to where this account's history
    /// stopped: messages in this period may be missing (also kept in the store).
    HistoryGap(crate::store::HistoryGap),
    /// A page of a room's older history asked for with [`Command::RoomLoadOlder`]:
    /// the messages that were new to the store (stored already, oldest first), the
    /// archive id of the page's oldest message (where the next page starts), and
    /// whether the archive has nothing older.
    RoomOlder {
        room: BareJid,
        messages: Vec<ChatMessage>,
        first: Option<String>,
        complete: bool,
    },
    /// A page of a chat's older history asked for with [`Command::ChatLoadOlder`], as
    /// [`UpdateKind::RoomOlder`] is for a room. `failed`: the page did not come (no
    /// archive, an error, or a new stream); it can be asked again.
    ChatOlder {
        peer: BareJid,
        messages: Vec<ChatMessage>,
        first: Option<String>,
        complete: bool,
        failed: bool,
    },
    /// What OMEMO knows about a conversation's devices (after `Command::OmemoStatus`, and
    /// when the contact's devices change).
    Omemo(omemo::trust::Report),
    /// Who shows which avatar (issue #18): the cached thumbnail (a PNG file), or `None`
    /// when they have none any more. All of them at the start of a session, then as
    /// they change.
    Avatars(Vec<(BareJid, Option<std::path::PathBuf>)>),
    /// Our avatar ([`Command::PublishAvatar`]) is published, or why not.
    AvatarPublished(Result<(), String>),
    /// Which occupants of a room we are in show which picture (issue #18, see
    /// `room_faces`): the cached thumbnail, or `None` for their initial again.
    OccupantAvatars {
        room: BareJid,
        faces: Vec<(String, Option<std::path::PathBuf>)>,
    },
}

/// Clonable sender of commands to one session.
#[derive(Debug, Clone)]
pub struct Handle {
    tx: mpsc::UnboundedSender<Command>,
}

/// The session is gone (disconnected for good or never started).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not connected")]
pub struct NotConnected;

impl Handle {
    pub fn new(tx: mpsc::UnboundedSender<Command>) -> Self {
        Handle { tx }
    }

    pub fn send(&self, command: Command) -> Result<(), NotConnected> {
        self.tx.send(command).map_err(|_| NotConnected)
    }

    /// Signs out: unavailable presence, then a clean close of the stream (so the
    /// server ends the session instead of keeping it for a resumption). Resolves when
    /// the session has ended, at once when it already had. The session bounds its own
    /// close ([`CLOSE_WAIT`]), but a session busy elsewhere may take longer: callers
    /// that must not wait bound this too (see [`sign_out_all`]).
    pub async fn sign_out(&self) {
        if self.send(Command::Disconnect).is_ok() {
            // The session drops its end of the command channel when it has ended.
            self.tx.closed().await;
        }
    }
}

/// How long a session gives the server to answer the close of its stream.
pub const CLOSE_WAIT: Duration = Duration::from_millis(1500);

/// Longest a quitting app waits for its sessions to sign out.
pub const SIGN_OUT_WAIT: Duration = Duration::from_secs(2);

/// Signs every session out at once and waits until all have ended, but never longer
/// than [`SIGN_OUT_WAIT`] (a server that does not answer must not hold up quitting).
pub async fn sign_out_all(handles: Vec<Handle>) {
    let all = futures::future::join_all(handles.iter().map(Handle::sign_out));
    if tokio::time::timeout(SIGN_OUT_WAIT, all).await.is_err() {
        log::warn!("a session did not finish signing out in time");
    }
}

/// The resource an account asks for: the same at every start of this account on
/// this device, so a session left behind by a crash (kept by the server for
/// resumption) is replaced by the next sign-in instead of staying beside it as a
/// second, ghost resource (servers close the old session of a resource taken
/// again). Other devices have other account ids, so they do not push each other out.
pub fn stable_resource(account: &AccountId) -> String {
    let tag: String = account
        .0
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(8)
        .collect();
    if tag.is_empty() {
        "loquat".to_owned()
    } else {
        format!("loquat.{tag}")
    }
}
