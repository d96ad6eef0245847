//! Every string the user sees, in English and Simplified Chinese.
//!
//! Each text is declared once with both translations, so a missing translation is a
//! compile error, and the tests below check that no translation is empty, that the
//! Chinese text is really Chinese, and that both sides use the same `{placeholders}`.

pub mod timefmt;

use std::fmt;

/// The language of the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    ZhCn,
}

impl Lang {
    /// Picks the language from `LOQUAT_LANG`, then `LC_ALL`, then `LANG`.
    pub fn from_env() -> Lang {
        let var = |name: &str| std::env::var(name).ok();
        Lang::choose(
            var("LOQUAT_LANG").as_deref(),
            var("LC_ALL").as_deref(),
            var("LANG").as_deref(),
        )
    }

    /// The first non-empty value decides: anything starting with "zh" is Chinese.
    pub fn choose(loquat_lang: Option<&str>, lc_all: Option<&str>, lang: Option<&str>) -> Lang {
        let chosen = [loquat_lang, lc_all, lang]
            .into_iter()
            .flatten()
            .map(str::trim)
            .find(|value| !value.is_empty());
        match chosen {
            Some(value) if value.to_ascii_lowercase().starts_with("zh") => Lang::ZhCn,
            _ => Lang::En,
        }
    }
}

macro_rules! texts {
    ($($key:ident => $en:literal, $zh:literal;)*) => {
        /// A text the user can see. Look it up with [`tr`] or [`trf`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum T { $($key,)* }

        impl T {
            /// Every text, for the translation tests.
            pub const ALL: &'static [T] = &[$(T::$key,)*];

            fn pair(self) -> (&'static str, &'static str) {
                match self { $(T::$key => ($en, $zh),)* }
            }
        }
    };
}

texts! {
    AppName => "Loquat", "Loquat 枇杷";
    OnboardingTitle => "Sign in to your XMPP account", "登录你的 XMPP 帐号";
    OnboardingIntro => "Loquat works with any XMPP server. Your password is kept in the system keyring, never in Loquat's files.",
        "Loquat 可以连接任何 XMPP 服务器。密码保存在系统密钥环中，不会写入 Loquat 的文件。";
    AddressLabel => "Address", "地址";
    AddressPlaceholder => "you@example.org", "你的名字@example.org";
    PasswordLabel => "Password", "密码";
    PasswordPlaceholder => "Your password", "你的密码";
    AdvancedShow => "▸ Advanced", "▸ 高级选项";
    AdvancedHide => "▾ Advanced", "▾ 高级选项";
    ServerHostLabel => "Server host (leave empty to look it up)", "服务器主机（留空则自动查找）";
    ServerHostPlaceholder => "xmpp.example.org", "xmpp.example.org（服务器）";
    PortLabel => "Port", "端口";
    PortPlaceholder => "5222", "5222（默认）";
    DirectTls => "Use direct TLS instead of STARTTLS", "使用直接 TLS 而不是 STARTTLS";
    AllowPlain => "Allow sending the password in plain form (PLAIN) over TLS when the server offers nothing better",
        "当服务器不提供更好的方式时，允许通过 TLS 以明文形式（PLAIN）发送密码";
    AllowPlainNote => "Off unless you need it: with PLAIN, whoever can pose as the server (for example with a certificate you trusted by hand) reads your password.",
        "除非必要请保持关闭：使用 PLAIN 时，任何能冒充服务器的人（例如持有你手动信任的证书）都能读到你的密码。";
    FixPlain => "The server only offers PLAIN login, which sends your password itself. If you trust this server, tick \"Allow sending the password in plain form\" below and save.",
        "服务器只提供 PLAIN 登录，这会直接发送你的密码。如果你信任这个服务器，请勾选下面的“允许以明文形式发送密码”并保存。";
    CaFileLabel => "Extra trusted CA certificate (PEM file)", "额外信任的 CA 证书（PEM 文件）";
    CaFilePlaceholder => "/path/to/ca.pem", "/路径/ca.pem";
    SignIn => "Sign in", "登录";
    Checking => "Checking your account…", "正在验证你的帐号…";
    Cancel => "Cancel", "取消";
    ErrInvalidAddress => "This is not a valid address. An address looks like name@example.org.",
        "这不是有效的地址。地址的格式类似 name@example.org。";
    ErrPasswordEmpty => "Please enter your password.", "请输入密码。";
    ErrInvalidPort => "The port must be a number from 1 to 65535.", "端口必须是 1 到 65535 之间的数字。";
    ErrCaFile => "Could not read the certificate file: {detail}", "无法读取证书文件：{detail}";
    ErrCaNotPem => "The certificate file does not contain a PEM certificate.", "证书文件中没有 PEM 格式的证书。";
    ErrWrongPassword => "Wrong address or password: the server did not let you in ({condition}).",
        "地址或密码错误：服务器拒绝登录（{condition}）。";
    ErrUnreachable => "The server could not be reached: {detail}", "无法连接到服务器：{detail}";
    ErrCertificate => "The server's certificate is not trusted: {reason}", "服务器的证书不受信任：{reason}";
    CertFingerprint => "SHA-256 fingerprint: {fingerprint}", "SHA-256 指纹：{fingerprint}";
    CertNames => "Issued for: {names}", "颁发给：{names}";
    CertNoNames => "Issued for: (no names)", "颁发给：（无名称）";
    TrustCertificate => "Trust this certificate", "信任此证书";
    ErrInsecure => "The server refuses a secure login: {detail}", "服务器不支持安全登录：{detail}";
    InsecurePlainOnly => "the server only offers PLAIN login, which sends your password itself (hidden only by the encrypted connection), so Loquat did not log in; if you trust this server, turn on \"Allow sending the password in plain form\" for this account (under Advanced when signing in, or in Settings > Accounts > Edit)",
        "服务器只提供 PLAIN 登录，这会直接发送你的密码本身（只受加密连接保护），因此 Loquat 没有登录；如果你信任这个服务器，请为此帐号打开“允许以明文形式发送密码”（登录时在“高级选项”中，或在“设置 > 帐号 > 编辑”中）";
    InsecureNoStarttls => "the server does not offer an encrypted connection (STARTTLS)",
        "服务器不提供加密连接（STARTTLS）";
    InsecureStarttlsRefused => "the server refused to start TLS", "服务器拒绝启动 TLS 加密";
    InsecureNoMechanism => "the server offers no way to log in", "服务器没有提供任何登录方式";
    InsecureOnlyOffers => "the server only offers {list}", "服务器只提供 {list}";
    InsecureUnsupported => "the login mechanism {name} is not supported", "不支持登录方式 {name}";
    InsecureIterations => "the server asked for {count} rounds of password hashing; Loquat does at most {max}, so this is not a server it should trust",
        "服务器要求进行 {count} 轮密码哈希；Loquat 最多只做 {max} 轮，因此不应信任这个服务器";
    InsecureNotProven => "the server could not prove that it knows your password ({why}); it may be an impostor",
        "服务器无法证明它知道你的密码（{why}）；它可能是冒充的";
    InsecureBoundAs => "the server signed us in as {jid}", "服务器让我们以 {jid} 的身份登录";
    ErrProtocol => "The server answered in a way Loquat did not expect: {detail}", "服务器的应答不符合预期：{detail}";
    ErrTimeout => "The server did not answer in time.", "服务器没有及时应答。";
    ErrCheckEnded => "The connection ended before the sign-in finished.", "登录完成前连接已中断。";
    KeyringUnavailable => "The system keyring is not available ({detail}). Your password is kept in memory only until Loquat closes.",
        "系统密钥环不可用（{detail}）。密码只保存在内存中，关闭 Loquat 后需要重新输入。";
    // --- account actions on the server (XEP-0077), src/ui/screen/settings/account_server.rs ---
    ServerActions => "On the server", "服务器上的帐号";
    ChangePasswordOpen => "Change password…", "修改密码…";
    DeleteOnServerOpen => "Delete account from the server…", "从服务器删除帐号…";
    ServerNewPasswordLabel => "New password", "新密码";
    RepeatPasswordLabel => "New password again", "再次输入新密码";
    RepeatPasswordCreate => "Password again", "再次输入密码";
    ChangePasswordSubmit => "Change password", "修改密码";
    ChangePasswordNote => "The server changes it at once; the keyring keeps the new one only after the server agreed.",
        "服务器会立即修改密码；只有在服务器同意后，密钥环才会保存新密码。";
    PasswordsDiffer => "The two passwords are not the same.", "两次输入的密码不一致。";
    PasswordChanging => "Changing the password on the server…", "正在服务器上修改密码…";
    PasswordChanged => "The password was changed on the server and saved.", "密码已在服务器上修改并保存。";
    PasswordChangedNotSaved => "The password was changed on the server, but the keyring could not save it ({detail}). Enter the new password when Loquat asks for it.",
        "密码已在服务器上修改，但密钥环无法保存它（{detail}）。Loquat 询问时请输入新密码。";
    DeleteOnServerWarning => "This deletes {account} on its server: contacts, history kept there and the address itself. It cannot be undone. Type the address to confirm.",
        "这会在服务器上删除 {account}：联系人、服务器保存的历史记录以及这个地址本身。此操作无法撤销。请输入该地址以确认。";
    DeleteOnServerSubmit => "Delete from the server", "从服务器删除";
    DeletingOnServer => "Deleting the account on the server…", "正在服务器上删除帐号…";
    DeletedNotHere => "The account was deleted on the server, but not from this computer: {detail}", "帐号已在服务器上删除，但未能从本机删除：{detail}";
    RegConflict => "That user name is already taken on this server.", "这个用户名在此服务器上已被占用。";
    RegNotAcceptable => "The server did not accept it: {detail}", "服务器不接受：{detail}";
    RegNotAllowed => "The server does not allow this: {detail}", "服务器不允许这样做：{detail}";
    RegNotAuthorized => "The server says this session may not do that for the account.", "服务器表示此会话无权对该帐号执行此操作。";
    RegUnsupported => "This server does not offer this.", "此服务器不提供此功能。";
    RegLimited => "Too many attempts; try again later. {detail}", "尝试次数过多，请稍后再试。{detail}";
    RegRefused => "The server refused ({condition}): {detail}", "服务器拒绝了（{condition}）：{detail}";
    RegMalformed => "The server's answer could not be read.", "无法读取服务器的应答。";
    CreateAccountLink => "Create a new account on a server…", "在服务器上注册新帐号…";
    CreateAccountTitle => "Create an XMPP account", "注册 XMPP 帐号";
    CreateAccountIntro => "Choose your address (name@server) and a password. Servers that allow it create the account right here; others register on their website.",
        "选择你的地址（名字@服务器）和密码。允许注册的服务器会在这里直接创建帐号；其他服务器需要在其网站上注册。";
    CreateAccountSubmit => "Create account", "注册帐号";
    CreateAccountBack => "I already have an account", "我已有帐号";
    CreatingAccount => "Asking the server…", "正在询问服务器…";
    RegWebsiteOnly => "This server does not let apps create accounts; register on its website.", "此服务器不允许应用注册帐号，请在其网站上注册。";
    RegWebsiteAt => "This server asks you to register on its website: {url}", "此服务器要求你在其网站上注册：{url}";
    RegCaptchaElsewhere => "This server asks for a test (CAPTCHA) Loquat cannot show; register on its website.",
        "此服务器要求完成 Loquat 无法显示的验证（验证码），请在其网站上注册。";
    RegFieldsElsewhere => "This server asks for details Loquat cannot fill in ({fields}); register on its website.",
        "此服务器要求填写 Loquat 无法填写的信息（{fields}），请在其网站上注册。";
    RegCaptchaLabel => "Type the characters in the picture", "输入图片中的字符";
    RegMoreFields => "The server also asks for:", "服务器还要求填写：";
    RegMissing => "Please fill in: {fields}", "请填写：{fields}";
    StoreUnavailable => "Could not open the local database ({detail}). Messages and accounts are not saved.",
        "无法打开本地数据库（{detail}）。消息和帐号不会被保存。";
    StoreRecovered => "The local database was damaged ({detail}). It was moved to {path} and a new one was started with what could be read: {accounts} accounts (with their trusted certificates), {settings} settings and {outbox} unsent messages, which are sent once you are online. Your history comes back from the server archive where it has one.",
        "本地数据库已损坏（{detail}）。它已被移到 {path}，并用仍可读取的内容新建了数据库：{accounts} 个帐号（包括其信任的证书）、{settings} 项设置和 {outbox} 条未发送的消息（上线后会发送）。服务器存档中的聊天记录会重新下载。";
    AccountSaveFailed => "Could not save the account: {detail}", "无法保存帐号：{detail}";
    Loading => "Starting…", "正在启动…";
    UpgradingHistory => "Upgrading your message history for this version: {percent} %", "正在为此版本升级消息记录：{percent}%";
    CompactingHistory => "Compacting your upgraded message history: {percent} %", "正在压缩升级后的消息记录：{percent}%";
    UpgradeOnce => "This happens once, after an update. Your messages stay as they are.", "此步骤只在更新后进行一次，你的消息不会改变。";
    Dismiss => "Dismiss", "关闭";
    EmojiPicker => "Emoji", "表情";
    MoreReactions => "More reactions", "更多回应";
    QuoteFind => "Replying to an earlier message that is not loaded here: click to find it.", "回复的是一条未在此加载的较早消息：点击查找。";
    QuoteSeeking => "Looking for the message in the history…", "正在历史记录中查找这条消息…";
    QuoteNotFound => "The message it answers is not in the history.", "历史记录中没有它回复的那条消息。";
    AllNotices => "All notices ({count})", "全部通知（{count}）";
    ReadNotice => "Read all", "查看全文";
    HideNotices => "Hide", "收起";
    Contacts => "Contacts", "联系人";
    NoContacts => "No contacts yet.", "还没有联系人。";
    Ungrouped => "Ungrouped", "未分组";
    // --- the profile panel, src/ui/screen/profile.rs ---
    OpenProfile => "Profile", "资料";
    ProfileClose => "Close", "关闭";
    ProfileSubscription => "Presence sharing", "在线状态共享";
    ProfileGroups => "Groups", "分组";
    ProfileNotContact => "Not in your contacts.", "不在你的联系人中。";
    ProfileLoading => "Asking for their profile…", "正在获取资料…";
    ProfileNoCard => "They have not filled in a profile.", "对方没有填写资料。";
    ProfileFullName => "Full name", "全名";
    ProfileNickname => "Nickname", "昵称";
    ProfileEmail => "E-mail", "电子邮件";
    ProfilePhone => "Telephone", "电话";
    ProfileOrg => "Work", "工作";
    ProfilePlace => "Place", "地点";
    ProfileBirthday => "Birthday", "生日";
    ProfileWeb => "Website", "网站";
    ProfileAbout => "About", "简介";
    ProfileClients => "Devices online", "在线设备";
    ProfileNoClients => "None online, or none said what it runs.", "没有在线设备，或设备未说明所用软件。";
    ProfileClientOn => "{client} on {os}", "{client}（{os}）";
    ProfileStartChat => "Start chat", "开始聊天";
    SubBoth => "Both ways", "双向";
    SubTo => "You see theirs", "你能看到对方的";
    SubFrom => "They see yours", "对方能看到你的";
    SubAsked => "Asked, waiting for their answer", "已请求，等待对方回应";
    SubNone => "None", "无";
    RenameGroup => "Rename", "重命名";
    GroupNamePlaceholder => "New group name", "新分组名称";
    GroupsPlaceholder => "Groups, separated by commas", "分组（用逗号分隔）";
    Conversations => "Conversations", "会话";
    NotInContacts => "not in contacts", "不在联系人中";
    AddContact => "Add contact", "添加联系人";
    ContactNamePlaceholder => "Name (optional)", "名称（可选）";
    Add => "Add", "添加";
    Edit => "Edit", "编辑";
    Save => "Save", "保存";
    Remove => "Remove", "删除";
    ConfirmRemove => "Remove {name} from your contacts?", "要从联系人中删除 {name} 吗？";
    SubscriptionRequests => "Contact requests", "联系人请求";
    WantsToSeePresence => "{jid} wants to see when you are online.", "{jid} 想要查看你的在线状态。";
    Accept => "Accept", "接受";
    SearchPlaceholder => "Search all messages (Ctrl+Shift+F)", "搜索全部消息（Ctrl+Shift+F）";
    Searching => "Searching…", "正在搜索……";
    SearchNothing => "No message matches.", "没有匹配的消息。";
    SearchFound => "{count} found, newest first", "找到 {count} 条，最新的在前";
    SearchFailed => "Search failed: {detail}", "搜索失败：{detail}";
    SearchHerePlaceholder => "Search in {name} (Ctrl+F)", "在 {name} 中搜索（Ctrl+F）";
    SearchIn => "In: {name}", "范围：{name}";
    SearchAllConversations => "All conversations", "全部会话";
    SearchAnyone => "From anyone", "任何发送者";
    SearchFiles => "Files", "文件";
    SearchLinks => "Links", "链接";
    SearchAnyTime => "Any time", "任何时间";
    SearchPastDay => "Past 24 hours", "最近 24 小时";
    SearchPastWeek => "Past week", "最近一周";
    SearchPastMonth => "Past month", "最近一个月";
    SearchPastYear => "Past year", "最近一年";
    SearchRemoveFilter => "Remove this filter", "移除此筛选条件";
    KeySearchHere => "Search the open conversation", "搜索当前会话";
    SearchSection => "Search", "搜索";
    ReadingOlder => "You are reading older messages.", "你正在查看较早的消息。";
    ShowNewer => "Show newer messages", "显示较新的消息";
    JumpToNewest => "Jump to the newest", "跳到最新";
    RebuildSearch => "Rebuild the search index", "重建搜索索引";
    RebuildSearchHint => "Search reads an index of your stored messages, kept up to date as they arrive. Rebuild it if search misses messages you can see.", "搜索使用已存消息的索引，收到消息时自动更新。如果搜索找不到你能看到的消息，请重建索引。";
    Indexing => "Indexing history: {done} of {total} messages", "正在索引历史消息：{done} / {total} 条";
    IndexingStarting => "Indexing history…", "正在索引历史消息……";
    Deny => "Deny", "拒绝";
    BlockUnsupported => "Your server cannot block {jid}: it does not offer blocking.{detail}", "你的服务器无法屏蔽 {jid}：它不支持屏蔽功能。{detail}";
    BlockRefused => "The server refused to block {jid}: {detail}", "服务器拒绝屏蔽 {jid}：{detail}";
    UnblockRefused => "The server refused to unblock {jid}: {detail}", "服务器拒绝取消屏蔽 {jid}：{detail}";
    Requests => "Requests", "请求";
    RequestsCount => "Requests ({count})", "请求（{count}）";
    RequestHint => "Not in your contacts. They are not told you read it.", "不在你的联系人中。对方不会知道你已读。";
    Block => "Block", "屏蔽";
    BlockAndReport => "Block and report spam", "屏蔽并举报垃圾信息";
    Unblock => "Unblock", "取消屏蔽";
    DeleteConversation => "Delete", "删除";
    BlockedTitle => "Blocked", "已屏蔽";
    BlockedNone => "Nobody is blocked.", "没有屏蔽任何人。";
    BlockedUnsupported => "This server does not offer blocking.", "此服务器不支持屏蔽。";
    StatusPlaceholder => "Status message", "状态消息";
    ShowChat => "Free to chat", "有空聊天";
    ShowOnline => "Online", "在线";
    ShowAway => "Away", "离开";
    ShowXa => "Not available", "长时间离开";
    ShowDnd => "Do not disturb", "请勿打扰";
    ShowOffline => "Offline", "离线";
    ConnWaiting => "Waiting for the password", "等待输入密码";
    ConnConnecting => "Connecting…", "正在连接…";
    ConnOnline => "Connected", "已连接";
    ConnRetrying => "Disconnected: {error}. Trying again in {secs} s.", "连接已断开：{error}。{secs} 秒后重试。";
    ConnDisconnected => "Disconnected: {error}", "连接已断开：{error}";
    ConnFailed => "Stopped: {error}", "已停止：{error}";
    Reconnect => "Reconnect", "重新连接";
    PasswordNeeded => "Enter the password for {jid}. It is kept in memory only.", "请输入 {jid} 的密码。密码只保存在内存中。";
    Connect => "Connect", "连接";
    NoConversation => "Pick a contact or a conversation to start chatting.", "选择一个联系人或会话开始聊天。";
    NotConnected => "Not connected: the message was not sent.", "未连接：消息没有发出。";
    CommandNotConnected => "Not connected: try again when the account is online.", "未连接：请在帐号在线后重试。";
    ComposerPlaceholder => "Write a message (Enter sends, Shift+Enter adds a line)", "输入消息（Enter 发送，Shift+Enter 换行）";
    Send => "Send", "发送";
    LoadingOlder => "Loading older messages…", "正在加载更早的消息…";
    LoadOlder => "Load older messages", "加载更早的消息";
    NoMessages => "No messages yet. Say hello!", "还没有消息。打个招呼吧！";
    HistoryFailed => "Could not load messages: {detail}", "无法加载消息：{detail}";
    ArchiveOlderFailed => "The server did not send older messages (not connected, or it keeps no archive). Try again later.", "服务器没有发送更早的消息（未连接，或服务器不保存存档）。请稍后再试。";
    HistoryGap => "Some messages from this time may be missing: the server no longer keeps them", "此段时间的部分消息可能缺失：服务器已不再保存";
    Today => "Today", "今天";
    Yesterday => "Yesterday", "昨天";
    Me => "Me", "我";
    DeliveryPending => "sending…", "发送中…";
    DeliverySent => "sent", "已发送";
    DeliveryAcked => "✓", "✓ 已送达服务器";
    DeliveryDelivered => "✓✓", "✓✓ 已送达";
    DeliveryRead => "✓✓ read", "✓✓ 已读";
    DeliveryFailed => "not delivered: {reason}", "未送达：{reason}";
    DeliveryReflected => "✓ in the room", "✓ 已到群聊";
    UnreadLine => "New messages", "新消息";
    PreviewPhoto => "Photo", "图片";
    RoomLeave => "Leave", "退出";
    RoomLeaveAsk => "Leave this room? Leaving for now keeps its bookmark, without joining at sign-in.", "退出此群聊？暂时退出会保留书签，但登录时不再自动加入。";
    RoomLeaveForNow => "Leave for now", "暂时退出";
    RoomLeaveForget => "Leave and forget the bookmark", "退出并删除书签";
    BookmarksHeading => "Bookmarked rooms", "已收藏的群聊";
    BookmarksNone => "No bookmarked rooms yet: rooms you join are bookmarked.", "还没有收藏的群聊：加入的群聊会被收藏。";
    BookmarkAutojoin => "Join at sign-in", "登录时加入";
    BookmarkRemove => "Remove bookmark", "删除书签";
    ModModerate => "Moderate…", "管理…";
    RoomDestroy => "Destroy…", "解散…";
    RoomDestroyAsk => "Destroy this room for everyone? This cannot be undone.", "为所有人解散此群聊？此操作无法撤销。";
    RoomDestroyReason => "Reason (optional, shown to everyone)", "原因（可选，所有人可见）";
    RoomDestroyConfirm => "Destroy room", "解散群聊";
    ModHeading => "Moderate {nick}", "管理 {nick}";
    ModReason => "Reason (optional)", "原因（可选）";
    ModKick => "Kick", "踢出";
    ModBan => "Ban", "封禁";
    ModVoiceGive => "Give voice", "允许发言";
    ModVoiceTake => "Take voice", "禁止发言";
    ModMakeModerator => "Make moderator", "设为主持人";
    ModRemoveModerator => "Remove moderator", "取消主持人";
    Retry => "Retry", "重试";
    ShowMore => "Show more ({count} more characters)", "显示更多（还有 {count} 个字符）";
    ShowLess => "Show less", "收起";
    MessageCut => "This message was cut at {size} kB by Loquat's size limit", "此消息超过 Loquat 的长度上限，已在 {size} kB 处截断";
    OmemoUndecryptable => "This encrypted message could not be decrypted: {reason}", "无法解密这条加密消息：{reason}";
    OmemoNoSession => "there is no session with the sender's device (a key exchange was sent to mend it)", "与发送方设备之间没有会话（已发送密钥交换以修复）";
    OmemoNotForThisDevice => "it was not encrypted for this device", "它不是为此设备加密的";
    OmemoBadMac => "bad MAC: it was altered, or the session is out of step (a key exchange was sent to mend it)", "MAC 校验失败：消息被篡改或会话不同步（已发送密钥交换以修复）";
    OmemoAltered => "it was altered on the way", "消息在传输途中被篡改";
    OmemoUntrustedIdentity => "this device's key changed", "该设备的密钥已更改";
    OmemoDamaged => "it is damaged", "消息已损坏";
    OmemoUnknownSender => "the room did not say who sent it", "聊天室没有告知发送者是谁";
    OmemoWrongSender => "it names another sender than the account it came from (forged or replayed)", "消息中注明的发送者与实际发来的账号不符（伪造或重放）";
    LockEncrypted => "Encrypted", "已加密";
    LockNotEncrypted => "Not encrypted", "未加密";
    LockChecking => "Encryption…", "加密…";
    LockHint => "End-to-end encryption (OMEMO) for this chat", "此聊天的端到端加密（OMEMO）";
    EncAuto => "Encrypted: {name} uses OMEMO, so this chat is encrypted automatically.", "已加密：{name} 使用 OMEMO，因此此聊天自动加密。";
    EncForced => "Encrypted: you turned encryption on for this chat. Nothing is sent in plain text.", "已加密：你为此聊天开启了加密，任何消息都不会以明文发送。";
    EncForcedNoDevice => "Encryption is on, but {name} publishes no OMEMO device: messages cannot be sent until they do, or until you turn encryption off.", "加密已开启，但 {name} 没有公布 OMEMO 设备：在对方公布设备或你关闭加密之前，消息无法发送。";
    EncOff => "Not encrypted: you turned encryption off for this chat. Messages go in plain text.", "未加密：你为此聊天关闭了加密，消息以明文发送。";
    EncNoDevices => "Not encrypted: {name} publishes no OMEMO device.", "未加密：{name} 没有公布 OMEMO 设备。";
    EncBroken => "Nothing is sent: this account's OMEMO keys on this device could not be opened (the system keyring holds another key, or the stored keys are damaged). Turn encryption off for this conversation to send unencrypted.", "不会发送任何内容：无法打开此帐号在本设备上的 OMEMO 密钥（系统密钥环中的密钥不匹配，或存储的密钥已损坏）。如需不加密发送，请为此会话关闭加密。";
    FileRefusedOmemo => "Not sent: this account's OMEMO keys could not be opened on this device, and the file is not uploaded unencrypted.", "未发送：无法在本设备上打开此帐号的 OMEMO 密钥，文件不会以未加密方式上传。";
    EncUnavailable => "Not encrypted: OMEMO is not available on this device (it needs the system keyring).", "未加密：此设备上无法使用 OMEMO（需要系统密钥环）。";
    EncChecking => "Looking up whether {name} uses OMEMO…", "正在查询 {name} 是否使用 OMEMO…";
    EncRoomAuto => "Encrypted: members of this room use OMEMO, so its messages are encrypted to each member's devices.", "已加密：此聊天室的成员使用 OMEMO，因此消息会加密发送到每位成员的设备。";
    EncRoomNoDevices => "Not encrypted: no other member of this room publishes an OMEMO device.", "未加密：此聊天室没有其他成员公布 OMEMO 设备。";
    EncRoomNotPrivate => "This room is not private: OMEMO needs a members-only room where members see each other's addresses.", "此聊天室不是私密的：OMEMO 需要仅限成员加入、且成员能看到彼此地址的聊天室。";
    EncRoomChecking => "Looking up whether this room can be encrypted…", "正在查询此聊天室能否加密…";
    LockRoomNotPrivate => "Not private", "非私密";
    EncRoomMembersDevices => "Members' devices", "成员的设备";
    EncChoiceLabel => "Encryption for this chat:", "此聊天的加密：";
    EncChoiceAuto => "Automatic", "自动";
    EncChoiceOn => "Always on", "始终开启";
    EncChoiceOff => "Off", "关闭";
    EncOffTitle => "Turn encryption off?", "关闭加密？";
    EncOffWarning => "Your messages to {name} will then be sent in plain text. The servers they pass through, and anyone who gets into those servers, can read them. Messages already sent stay as they were.", "之后你发给 {name} 的消息将以明文发送。经过的服务器以及能进入这些服务器的任何人都能读到它们。已发送的消息不受影响。";
    EncOffConfirm => "Turn off", "关闭加密";
    EncOffKeep => "Keep encryption", "保持加密";
    EncClose => "Close", "关闭面板";
    EncThisDevice => "This device", "本设备";
    EncTheirDevices => "Devices of {name}", "{name} 的设备";
    EncOwnDevices => "Your other devices", "你的其他设备";
    EncNoOtherDevices => "None", "无";
    EncDevice => "Device {id}", "设备 {id}";
    EncNoFingerprint => "fingerprint not known yet", "指纹尚未知晓";
    EncVerified => "Verified", "已验证";
    EncNotVerified => "Not verified", "未验证";
    EncMarkVerified => "Mark verified", "标记为已验证";
    EncUnverify => "Remove verification", "取消验证";
    EncKeyChanged => "Key changed", "密钥已更改";
    EncOldKey => "Old key", "旧密钥";
    EncNewKey => "New key", "新密钥";
    EncKeyChangedWarning => "This device now shows another key, so its messages cannot be read. If its owner reinstalled the app, that is expected. If not, someone else may be trying to read your messages. Ask its owner (in person or on another channel) whether the new key is theirs before you accept it.", "该设备现在显示的是另一把密钥，因此无法阅读它发来的消息。如果它的主人重新安装了应用，这是正常的；否则，可能有人正试图读取你的消息。在接受之前，请（当面或通过其他渠道）向它的主人确认新密钥确实是他们的。";
    EncAcceptKey => "Accept the new key", "接受新密钥";
    EncVerifyHint => "Compare each fingerprint with the one the other device shows (in person or on another channel) before marking it verified.", "在标记为已验证之前，请将每个指纹与对方设备显示的指纹进行比对（当面或通过其他渠道）。";
    EncRequireOn => "Verification is required (Settings): unverified devices get nothing.", "已要求验证（设置）：未验证的设备收不到任何消息。";
    EncNewDevice => "{name} has a new device that you have not verified: device {id}, fingerprint {fingerprint}.", "{name} 有一台你尚未验证的新设备：设备 {id}，指纹 {fingerprint}。";
    EncNewDeviceShort => "New device, not verified: device {id}", "未验证的新设备：设备 {id}";
    EncUnknownFingerprint => "not known yet", "尚未知晓";
    EncKeyChangedNotice => "Device {id} of {name} changed its key (new fingerprint {fingerprint}). Your messages are not encrypted to it, so it gets nothing until you accept the new key: click the lock in the header, then “Accept the new key”.", "{name} 的设备 {id} 更改了密钥（新指纹 {fingerprint}）。你的消息不会加密给它，因此在你接受新密钥之前它收不到任何消息：点击顶栏中的锁，然后选择“接受新密钥”。";
    EncShowDevices => "Show devices", "查看设备";
    EncKeyChangedShort => "Device {id} changed its key: it gets nothing until you accept it", "设备 {id} 更改了密钥：在你接受之前它收不到任何消息";
    EncryptionSection => "Encryption", "加密";
    SettingsRequireVerification => "Encrypt only to verified devices (OMEMO)", "仅向已验证的设备加密（OMEMO）";
    SettingsRequireVerificationHint => "Off: a contact's new device is trusted until you verify it (as Conversations does). On: Loquat refuses to encrypt to a device you have not verified.", "关闭：联系人的新设备在你验证之前即被信任（与 Conversations 相同）。开启：Loquat 拒绝向未经你验证的设备加密。";
    LinkOpenFailed => "Could not open the link: {detail}", "无法打开链接：{detail}";
    AccountNotice => "{account}: {notice}", "{account}：{notice}";
    AvatarTitle => "Avatar", "头像";
    ChooseAvatar => "Choose a picture…", "选择图片…";
    AvatarPublished => "{account}: your avatar is published.", "{account}：头像已发布。";
    AvatarNotPublished => "{account}: your avatar was not published: {why}", "{account}：头像未能发布：{why}";
    AvatarDropHint => "Or drop a picture here, or paste one (Ctrl+V).", "也可以把图片拖到这里，或粘贴（Ctrl+V）。";
    AvatarPreviewHint => "Your new avatar (the centre square of the picture):", "新头像（取图片中间的正方形）：";
    PublishAvatar => "Publish", "发布";
    RemoveAvatar => "Remove avatar", "移除头像";
    AvatarRemoved => "{account}: your avatar is removed.", "{account}：头像已移除。";
    AvatarNotRemoved => "{account}: your avatar was not removed: {why}", "{account}：头像未能移除：{why}";
    AvatarNotRead => "That picture could not be used: {why}", "无法使用这张图片：{why}";
    // --- our own profile, src/ui/screen/settings/profile.rs ---
    OwnProfileTitle => "Profile", "个人资料";
    OwnProfileHint => "What your contacts see about you.", "联系人能看到的关于你的信息。";
    EditOwnProfile => "Edit profile…", "编辑个人资料…";
    OwnProfileLoading => "Loading your profile from the server…", "正在从服务器加载你的资料…";
    OwnProfileSave => "Save profile", "保存资料";
    OwnProfileSaving => "Saving…", "正在保存…";
    OwnProfileSaved => "Your profile is saved.", "你的资料已保存。";
    OwnProfileNotLoaded => "Your profile could not be loaded: {why}", "无法加载你的资料：{why}";
    OwnProfileNotSaved => "Your profile was not saved: {why}", "你的资料未能保存：{why}";
    OwnProfileBirthdayHint => "YYYY-MM-DD", "年-月-日，如 1990-01-31";
    AllAccounts => "All accounts", "全部帐号";
    ManageAccounts => "Accounts", "帐号管理";
    AccountsTitle => "Accounts", "帐号";
    AccountsIntro => "Each account signs in on its own; a problem with one never stops the others.",
        "每个帐号独立登录；一个帐号出问题不会影响其他帐号。";
    BackToChats => "← Back to chats", "← 返回聊天";
    BackToAccounts => "← All accounts", "← 全部帐号";
    AccountNotOnline => "(not connected)", "（未连接）";
    AddAccount => "+ Add account", "+ 添加帐号";
    AddAccountTitle => "Add an account", "添加帐号";
    AddAccountIntro => "Sign in to one more XMPP account. Its conversations join the same inbox, marked with its colour.",
        "再登录一个 XMPP 帐号。它的会话会合并到同一个收件箱，并用它的颜色标出。";
    ErrAlreadyAdded => "This account is already in Loquat.", "此帐号已经添加到 Loquat 中。";
    Disable => "Disable", "停用";
    Enable => "Enable", "启用";
    ConnDisabled => "Disabled: not signed in", "已停用：未登录";
    Fix => "Fix", "修复";
    MoveUp => "Move up", "上移";
    MoveDown => "Move down", "下移";
    SendAs => "as {account}", "以 {account} 的身份发送";
    WriteAs => "Write as", "发送身份";
    SetAllTo => "Set all accounts to…", "将全部帐号设为…";
    PresenceForAll => "Set presence for all accounts", "为所有帐号设置在线状态";
    ApplyToAll => "Set for all", "全部应用";
    DisplayNameLabel => "Display name", "显示名称";
    DisplayNamePlaceholder => "e.g. Work (leave empty to show the address)", "例如：工作（留空则显示地址）";
    ColourLabel => "Colour", "颜色";
    ColourAutomatic => "Automatic", "自动";
    NewPasswordLabel => "Password (leave empty to keep the current one)", "密码（留空则保持不变）";
    NewPasswordPlaceholder => "New password", "新密码";
    CaTrusted => "An extra CA certificate is trusted for this account.", "此帐号额外信任了一个 CA 证书。";
    CaForget => "Stop trusting it", "不再信任";
    PinnedCertificates => "Certificates you trusted by hand: {count}", "你手动信任的证书：{count} 个";
    ForgetPinned => "Forget them", "全部忘记";
    EditReconnectNote => "Saving a new password, server or certificate settings reconnects this account. The name and colour change at once.",
        "保存新的密码、服务器或证书设置会重新连接此帐号；名称和颜色会立即更改。";
    FixPassword => "The server refused the password. Enter the right one and save.", "服务器拒绝了密码。请输入正确的密码并保存。";
    FixCertificate => "The server's certificate is not trusted. Check the fingerprint with your server's admin before trusting it, or set the right CA file below.",
        "服务器的证书不受信任。信任之前请与服务器管理员核对指纹，或在下方设置正确的 CA 文件。";
    RemoveAccount => "Remove", "删除";
    RemoveAccountQuestion => "Remove {account} from Loquat? Its password is deleted from the keyring.",
        "要从 Loquat 中删除 {account} 吗？它的密码会从密钥环中删除。";
    AlsoDeleteHistory => "Also delete its message history on this computer", "同时删除此电脑上的聊天记录";
    Removing => "Removing…", "正在删除…";
    RemoveFailed => "Could not remove the account: {detail}", "无法删除帐号：{detail}";
    PrefSaveFailed => "Could not remember this choice: {detail}", "无法记住这个选择：{detail}";
    NoConversationsHere => "No conversations yet.", "还没有会话。";
    AccountPrompt => "Account:", "帐号：";
    StatusShort => "Status…", "状态…";
    // ---- desktop integration: xmpp: links, tray, notifications
    UriNotXmpp => "That link is not an xmpp: link.", "这个链接不是 xmpp: 链接。";
    UriBadAddress => "That xmpp: link has no valid address.", "这个 xmpp: 链接没有有效的地址。";
    UriBadEncoding => "That xmpp: link is not correctly encoded.", "这个 xmpp: 链接的编码不正确。";
    UriUnknownAction => "That xmpp: link asks for something Loquat does not do ({action}).",
        "这个 xmpp: 链接要求的操作 Loquat 不支持（{action}）。";
    TrayUnread => "{count} unread", "{count} 条未读";
    TrayShowHide => "Show / hide Loquat", "显示 / 隐藏 Loquat";
    TrayPresence => "Presence", "在线状态";
    TrayQuit => "Quit", "退出";
    MuteHint => "Stop notifications from this conversation", "不再通知这个会话的消息";
    MutedHint => "Notifications from this conversation are off", "这个会话的通知已关闭";
    // --- Desktop (issue #7, in-app half): settings, switcher, shortcuts help ---
    SettingsTitle => "Settings", "设置";
    GeneralSettings => "General settings", "常规设置";
    AppearanceSection => "Appearance", "外观";
    ThemeLabel => "Theme", "主题";
    ThemeSystem => "Follow the system", "跟随系统";
    ThemeLight => "Light", "浅色";
    ThemeDark => "Dark", "深色";
    LanguageLabel => "Language", "语言";
    LanguageSystem => "Follow the system", "跟随系统";
    LanguageEnglish => "English", "English（英语）";
    LanguageChinese => "简体中文 (Simplified Chinese)", "简体中文";
    NotificationsSection => "Notifications", "通知";
    NotificationsToggle => "Show a notification for new messages", "收到新消息时显示通知";
    MutedTitle => "Muted conversations", "已静音的会话";
    NoneMuted => "No conversation is muted.", "没有静音的会话。";
    MutePlaceholder => "Address to mute, e.g. bob@example.org", "要静音的地址，例如 bob@example.org";
    Mute => "Mute", "静音";
    Unmute => "Unmute", "取消静音";
    InvalidAddress => "This is not a valid address.", "这不是有效的地址。";
    DownloadsSection => "Downloads", "下载";
    DownloadFolderLabel => "Download folder (leave empty for the system's)", "下载文件夹（留空则使用系统默认）";
    ImageMaxLabel => "Download images automatically up to (MiB, 0 = never)", "自动下载图片的大小上限（MiB，0 表示从不）";
    NotANumber => "Enter a whole number.", "请输入整数。";
    WindowSection => "Window", "窗口";
    CloseToTray => "Closing the window keeps Loquat running in the tray", "关闭窗口时让 Loquat 在托盘中继续运行";
    StartMinimised => "Start minimised", "启动时最小化";
    SwitcherPlaceholder => "Go to a conversation or contact…", "转到会话或联系人…";
    SwitcherEmpty => "Nothing matches.", "没有匹配的结果。";
    HelpTitle => "Keyboard shortcuts", "键盘快捷键";
    KeySwitcher => "Quick switcher", "快速切换会话";
    KeySearch => "Search all messages", "搜索全部消息";
    KeyPrevNext => "Previous / next conversation", "上一个 / 下一个会话";
    KeyCloseConversation => "Close the conversation", "关闭当前会话";
    KeyEscape => "Close a dialog", "关闭对话框";
    KeyQuit => "Quit Loquat", "退出 Loquat";
    KeyHelp => "Show this help", "显示此帮助";
    KeySend => "Send / new line in the composer", "在输入框中发送 / 换行";
    KeyFocus => "Next / previous field", "下一个 / 上一个输入项";
    CloseHelp => "Close", "关闭";
    // --- end desktop ---
    // --- group chat (MUC): join dialog, room view ---
    JoinRoomTitle => "Join a group chat", "加入群聊";
    RoomAddressLabel => "Room address", "群聊地址";
    RoomAddressPlaceholder => "room@conference.example.org", "room@conference.example.org（群聊地址）";
    RoomNickLabel => "Your nickname in the room", "你在群聊中的昵称";
    RoomPasswordLabel => "Password (only if the room has one)", "密码（仅当群聊设有密码时）";
    JoinRoomButton => "Join", "加入";
    JoiningRoom => "Joining…", "正在加入…";
    RoomAddressInvalid => "This is not a valid room address.", "这不是有效的群聊地址。";
    RoomNickEmpty => "Choose a nickname.", "请选择一个昵称。";
    MucNickInUse => "The nickname {nick} is already taken in this room. Try {suggestion}?", "昵称 {nick} 在此群聊中已被使用。试试 {suggestion}？";
    MucUseSuggestion => "Use {suggestion}", "使用 {suggestion}";
    MucPasswordRequired => "This room needs a password, or the password was wrong.", "此群聊需要密码，或密码错误。";
    MucMembersOnly => "This room is for members only. Ask an owner to add you.", "此群聊仅限成员加入。请联系群主添加你。";
    MucBanned => "You are banned from this room.", "你已被此群聊封禁。";
    MucNotFound => "This room does not exist.", "此群聊不存在。";
    MucCreateInstead => "Create it", "创建此群聊";
    MucServiceUnavailable => "The group chat service is not available right now.", "群聊服务暂时不可用。";
    MucRoomFull => "This room is full.", "此群聊已满。";
    MucNotAllowed => "You are not allowed to do this here.", "你无权在此执行此操作。";
    MucOtherError => "The room refused: {detail}", "群聊拒绝了请求：{detail}";
    RoomBadge => "Room", "群聊";
    RoomNoSubject => "No subject", "没有主题";
    RoomOccupants => "In the room ({count})", "群聊成员（{count}）";
    RoleModerator => "moderator", "主持人";
    RoleParticipant => "participant", "参与者";
    RoleVisitor => "visitor", "访客";
    AffOwner => "owner", "群主";
    AffAdmin => "admin", "管理员";
    AffMember => "member", "成员";
    RoomKicked => "You were removed from this room by {actor}.", "你被 {actor} 移出了此群聊。";
    RoomKickedNoActor => "You were removed from this room.", "你被移出了此群聊。";
    RoomBannedState => "You were banned from this room.", "你被此群聊封禁了。";
    RoomLeftState => "You left this room.", "你已离开此群聊。";
    RoomDestroyed => "This room was closed.", "此群聊已关闭。";
    RoomShutdown => "The group chat service is restarting. Rejoining in {secs} s…", "群聊服务正在重启，{secs} 秒后重新加入…";
    RoomLost => "The connection to this room was lost. Rejoining in {secs} s…", "与此群聊的连接已断开，{secs} 秒后重新加入…";
    RoomLostNoRetry => "You are no longer in this room.", "你已不在此群聊中。";
    RoomMembersOnlyNow => "This room became members-only.", "此群聊已改为仅限成员。";
    RoomReason => "Reason: {reason}", "原因：{reason}";
    RoomRejoin => "Rejoin", "重新加入";
    RoomJoinedLine => "{nick} joined", "{nick} 加入了";
    RoomLeftLine => "{nick} left", "{nick} 离开了";
    RoomNickLine => "{old} is now {new}", "{old} 改名为 {new}";
    RoomComposerPlaceholder => "Message {room}", "发消息到 {room}";
    RoomSend => "Send", "发送";
    RoomInvitation => "{from} invites you to {room}", "{from} 邀请你加入 {room}";
    RoomInvitationJoin => "Join", "加入";
    RoomInvitationDecline => "Decline", "拒绝";
    // File transfer (issue #4)
    Attach => "Attach", "附件";
    TransferSending => "Sending {name}", "正在发送 {name}";
    TransferReceiving => "Downloading {name}", "正在下载 {name}";
    TransferPreparing => "Asking the server for room…", "正在向服务器申请上传位置…";
    TransferWaitingEncryption => "Waiting to learn whether this conversation is encrypted: the file is sent once that is known.", "正在确认此会话是否加密：确认后再发送文件。";
    TransferProgress => "{done} of {total} · {speed}/s", "{done} / {total} · {speed}/秒";
    TransferUploadFailed => "{name} was not sent: {reason}", "{name} 未发送：{reason}";
    TransferDownloadFailed => "{name} could not be downloaded: {reason}", "{name} 下载失败：{reason}";
    TransferInterrupted => "{name}: interrupted when Loquat closed", "{name}：Loquat 关闭时中断";
    TransferSaved => "Saved as {path}", "已保存为 {path}";
    Download => "Download", "下载";
    OpenFile => "Open", "打开";
    SaveAs => "Save as…", "另存为…";
    FileSizeUnknown => "size unknown", "大小未知";
    OpenInViewer => "Open in system viewer", "用系统查看器打开";
    CloseImage => "Close", "关闭";
    ImageLoading => "Opening the image…", "正在打开图片…";
    // Room tools (issue #5)
    ToolNoAnswer => "The server did not answer in time. Try again.", "服务器没有及时回应，请重试。";
    ToolMalformed => "The server's answer could not be read.", "无法读取服务器的回应。";
    ToolForbidden => "You are not allowed to do this in this room.", "你无权在此群聊中这样做。";
    ToolBadForm => "The room did not accept these settings. Check the fields and try again.", "群聊不接受这些设置，请检查后重试。";
    ToolConflict => "Someone else changed this at the same time. Try again.", "有人同时修改了此项，请重试。";
    ConfigTitle => "Settings of {room}", "{room} 的设置";
    ConfigLoading => "Asking the room for its settings…", "正在获取群聊设置…";
    ConfigSave => "Save", "保存";
    ConfigSaving => "Saving…", "正在保存…";
    ConfigCancel => "Cancel", "取消";
    ConfigMissing => "Please fill in: {fields}", "请填写：{fields}";
    ConfigOpen => "Configure", "设置";
    ConfigSaved => "The room settings were saved.", "群聊设置已保存。";
    NoFileChooser => "No file dialog can open: install a desktop portal with a file chooser (xdg-desktop-portal-gtk, -gnome or -kde) or zenity. Until then, drag files onto the window or paste them.", "无法打开文件选择框：请安装带文件选择功能的桌面门户（xdg-desktop-portal-gtk、-gnome 或 -kde）或 zenity。在此之前，可以把文件拖到窗口中或直接粘贴。";
    NoFileChooserBus => "No file dialog can open: there is no D-Bus session for the desktop portal, and zenity is not installed. Drag files onto the window or paste them instead.", "无法打开文件选择框：没有可供桌面门户使用的 D-Bus 会话，也未安装 zenity。请把文件拖到窗口中或直接粘贴。";
    ChatStatesToggle => "Tell people when I am typing", "让对方看到我正在输入";
    GpuToggle => "Draw with the graphics card (smoother on some machines, about 100 MiB more memory; from the next start)", "使用显卡绘制（在部分电脑上更流畅，约多占用 100 MiB 内存；下次启动时生效）";
    TypingOne => "{who} is typing…", "{who} 正在输入…";
    TypingTwo => "{a} and {b} are typing…", "{a} 和 {b} 正在输入…";
    TypingMany => "Several people are typing…", "好几个人正在输入…";
    MessageDeleted => "This message was deleted.", "此消息已被删除。";
    MessageModerated => "Removed by a moderator.", "已被管理员移除。";
    MessageModeratedWhy => "Removed by a moderator: {reason}", "已被管理员移除：{reason}";
    MessageEdited => "edited", "已编辑";
    MessageEarlier => "Earlier versions:", "之前的版本：";
    EditingBar => "Editing your message", "正在编辑你的消息";
    ReplyingTo => "Replying to {who}", "回复 {who}";
    CancelCompose => "Cancel", "取消";
    ActionReply => "Reply", "回复";
    ActionEdit => "Edit", "编辑";
    ActionDelete => "Delete for everyone", "为所有人删除";
    ActionRemove => "Remove…", "移除…";
    ActionsHint => "Message actions", "消息操作";
    DeleteQuestion => "Delete this message for everyone?", "要为所有人删除这条消息吗？";
    DeleteConfirm => "Delete", "删除";
    RemoveQuestion => "Remove this message for everyone?", "要为所有人移除这条消息吗？";
    RemoveReason => "Reason (optional)", "原因（可选）";
    RemoveConfirm => "Remove", "移除";
    QuoteDeleted => "a deleted message", "一条已删除的消息";
    QuoteNotLoaded => "Replying to an earlier message that is not loaded here: scroll up to load older messages.", "回复的是一条未在此加载的较早消息：向上滚动以加载更早的消息。";
    MembersOpen => "Members and bans", "成员与封禁";
    MembersTitle => "Members and bans of {room}", "{room} 的成员与封禁";
    MembersListMembers => "Members", "成员";
    MembersListAdmins => "Admins", "管理员";
    MembersListOwners => "Owners", "群主";
    MembersListBanned => "Banned", "已封禁";
    MembersLoading => "Asking the room for this list…", "正在获取此列表…";
    MembersEmpty => "Nobody is on this list.", "此列表为空。";
    MembersAddress => "Address (name@server)", "地址（name@server）";
    MembersReason => "Reason (optional)", "原因（可选）";
    MembersAdd => "Add", "添加";
    MembersBan => "Ban", "封禁";
    MembersRemove => "Remove", "移除";
    MembersClose => "Back to the room", "返回群聊";
    MembersWorking => "Asking the room…", "正在请求群聊…";
    MembersBadAddress => "That is not an address like name@server.", "这不是 name@server 形式的地址。";
    MembersAdded => "{who} is now on the list {list}.", "{who} 已加入“{list}”列表。";
    MembersRemoved => "{who} was taken off the list {list}.", "{who} 已从“{list}”列表移除。";
    MembersRefused => "The room refused the change for {who}: {why}", "群聊拒绝了对 {who} 的更改：{why}";
    RoomCreatedNote => "You created this room. It is open with the default settings.", "你创建了此群聊，当前使用默认设置。";
    RoomCreatedConfigure => "Configure now", "立即设置";
    RoomCreatedKeep => "Keep defaults", "保留默认设置";
    BrowseOpen => "Browse…", "浏览…";
    BrowseTitle => "Rooms on this server", "此服务器上的群聊";
    BrowseService => "Service: {service}", "服务：{service}";
    BrowseFilter => "Filter by name or address", "按名称或地址筛选";
    BrowseLoading => "Looking for rooms…", "正在查找群聊…";
    BrowseEmpty => "No rooms found.", "没有找到群聊。";
    BrowseNoService => "This server has no group chat service.", "此服务器没有群聊服务。";
    BrowseOccupants => "{count} in the room", "{count} 人在群聊中";
    BrowseMembersOnly => "members only", "仅限成员";
    BrowsePassword => "password", "需要密码";
    BrowseMore => "Show details of more rooms", "显示更多群聊的详情";
    RoomEditSubject => "Subject", "主题";
    RoomEditNick => "Nickname", "昵称";
    RoomInvite => "Invite", "邀请";
    RoomEditSave => "Save", "保存";
    RoomInviteSend => "Send invitation", "发送邀请";
    RoomInviteAddress => "Address to invite, e.g. friend@example.org", "要邀请的地址，例如 friend@example.org";
    RoomInviteReason => "Message (optional)", "附言（可选）";
    RoomInviteInvalid => "This is not a valid address.", "这不是有效的地址。";
    RoomInviteSent => "Invitation sent to {to}.", "已向 {to} 发送邀请。";
    RoomSubjectPlaceholder => "New subject", "新主题";
    RoomRefused => "The room refused: {why}", "群聊拒绝了：{why}";
    RoomNickTaken => "The nickname {nick} is already in use here.", "昵称 {nick} 在此已被使用。";
    PrivateMessage => "Message privately", "私信";
    PrivateHeading => "Private with {nick} in {room}", "在 {room} 中与 {nick} 私聊";
    PrivateChats => "Private messages", "私信";
    PrivateBack => "Back to the room", "返回群聊";
    PrivatePlaceholder => "Private message to {nick}", "私信给 {nick}";
    PrivateGone => "{nick} is not in the room now; the message may not arrive.", "{nick} 当前不在群聊中，消息可能无法送达。";
    OccupantIn => "In {room}", "位于群聊 {room}";
    OccupantAddress => "Address", "地址";
    OccupantAddressHidden => "The room does not show their address.", "群聊未公开其地址。";
    OccupantRole => "Role", "角色";
    OccupantAffiliation => "Affiliation", "身份";
    OccupantGone => "No longer in the room.", "已不在群聊中。";
}

impl fmt::Display for T {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.pair().0)
    }
}

/// The text in the given language.
pub fn tr(lang: Lang, key: T) -> &'static str {
    let (en, zh) = key.pair();
    match lang {
        Lang::En => en,
        Lang::ZhCn => zh,
    }
}

/// The text with each `{name}` replaced by its value.
pub fn trf(lang: Lang, key: T, args: &[(&str, &str)]) -> String {
    let mut out = tr(lang, key).to_string();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placeholders(s: &str) -> Vec<String> {
        let mut found: Vec<String> = s
            .split('{')
            .skip(1)
            .filter_map(|part| part.split_once('}').map(|(name, _)| name.to_string()))
            .collect();
        found.sort();
        found
    }

    fn has_cjk(s: &str) -> bool {
        // CJK ideographs, CJK punctuation, full-width forms.
        s.chars().any(|c| {
            ('\u{4e00}'..='\u{9fff}').contains(&c)
                || ('\u{3000}'..='\u{303f}').contains(&c)
                || ('\u{ff00}'..='\u{ffef}').contains(&c)
        })
    }

    #[test]
    fn every_text_has_both_translations() {
        for key in T::ALL {
            let en = tr(Lang::En, *key);
            let zh = tr(Lang::ZhCn, *key);
            assert!(!en.trim().is_empty(), "{key:?} has no English text");
            assert!(!zh.trim().is_empty(), "{key:?} has no Chinese text");
            assert!(has_cjk(zh), "{key:?} is not translated to Chinese: {zh:?}");
            assert_eq!(
                placeholders(en),
                placeholders(zh),
                "{key:?} placeholders differ"
            );
        }
    }

    #[test]
    fn language_comes_from_the_environment_values() {
        assert_eq!(
            Lang::choose(Some("zh"), None, Some("en_US.UTF-8")),
            Lang::ZhCn
        );
        assert_eq!(
            Lang::choose(None, Some("zh_CN.UTF-8"), Some("en_US")),
            Lang::ZhCn
        );
        assert_eq!(Lang::choose(None, None, Some("zh_CN.UTF-8")), Lang::ZhCn);
        assert_eq!(Lang::choose(Some("en"), Some("zh_CN"), None), Lang::En);
        assert_eq!(Lang::choose(Some(""), None, Some("C.UTF-8")), Lang::En);
        assert_eq!(Lang::choose(None, None, None), Lang::En);
    }

    #[test]
    fn placeholders_are_filled() {
        let s = trf(
            Lang::En,
            T::ErrUnreachable,
            &[("detail", "connection refused")],
        );
        assert_eq!(s, "The server could not be reached: connection refused");
    }
}
