//! What the app does for Settings > Accounts > Profile (issue #18): loads and saves our
//! own profile on the account's session (`session::own_profile`) and hands the answer
//! back to the form.

use crate::session::own_profile;
use crate::ui::screen::settings::{self, profile};
use crate::ui::{App, Message};
use iced::Task;

fn back(message: profile::Message) -> Message {
    Message::Settings(settings::Message::Profile(message))
}

impl App {
    pub(in crate::ui) fn on_own_profile(&mut self, event: profile::Event) -> Task<Message> {
        use profile::{Event, Message as M};
        let account = match &event {
            Event::Load(a) | Event::Save(a, _) => a.clone(),
        };
        let handle = self.handles.get(&account).cloned();
        let own = self.account_state(&account).map(|s| s.account.jid.clone());
        let (Some(handle), Some(own)) = (handle, own) else {
            let why = crate::ui::i18n::tr(self.lang, crate::ui::i18n::T::CommandNotConnected);
            return Task::done(back(match event {
                Event::Load(_) => M::Loaded(account, Err(why.to_owned())),
                Event::Save(..) => M::Saved(account, Err(why.to_owned())),
            }));
        };
        match event {
            Event::Load(_) => Task::perform(
                async move { own_profile::load(&handle, &own).await },
                move |r| back(M::Loaded(account.clone(), r.map_err(|e| e.to_string()))),
            ),
            Event::Save(_, card) => Task::perform(
                async move { own_profile::save(&handle, &own, &card).await },
                move |r| back(M::Saved(account.clone(), r.map_err(|e| e.to_string()))),
            ),
        }
    }
}
