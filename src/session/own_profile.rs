//! Our own profile (issue #18) as plain async calls on a session [`Handle`]: read it
//! from the server (our vCard4 PEP item, XEP-0292, when there is one, else our
//! vcard-temp, XEP-0054) and save it: to vcard-temp (keeping the `PHOTO` and every field
//! the form does not edit) and, where our account has PEP, to the vCard4 node and the
//! nickname node (XEP-0172) too. Also takes our avatar away (an empty XEP-0084 metadata
//! item, and a vCard without `PHOTO`). What goes on the wire is `xmpp::vcard4`'s and
//! `xmpp::avatar`'s business.

use super::Handle;
use super::roomtools::{self, Condition, QueryError};
use crate::xmpp::profile;
use crate::xmpp::vcard4::{self, OwnCard, Support};
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::minidom::Element;

/// What a save reached. It succeeds when vcard-temp or the vCard4 took the profile (a
/// server may offer only one of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Saved {
    /// Our vcard-temp was set.
    pub vcard_temp: bool,
    /// Our vCard4 PEP item was published.
    pub vcard4: bool,
    /// Our nickname was published (XEP-0172).
    pub nick: bool,
}

fn to(own: &BareJid) -> Jid {
    Jid::from(own.clone())
}

/// An answer, with "nothing there" (an empty node, a missing vCard) as `None`.
async fn get(
    handle: &Handle,
    own: &BareJid,
    payload: Element,
) -> Result<Option<Element>, QueryError> {
    match roomtools::query(handle, to(own), true, payload).await {
        Err(QueryError::Refused {
            condition: Condition::ItemNotFound,
            ..
        }) => Ok(None),
        other => other,
    }
}

/// What our account offers (disco#info of our bare JID); nothing when it does not say.
pub async fn support(handle: &Handle, own: &BareJid) -> Support {
    let answer = roomtools::query(handle, to(own), true, crate::xmpp::disco::info_query()).await;
    vcard4::support(answer.ok().flatten().as_ref())
}

/// Our profile as the server has it: the vCard4 item when we have one, else vcard-temp.
pub async fn load(handle: &Handle, own: &BareJid) -> Result<OwnCard, QueryError> {
    // A server without PEP, or a node nobody may read, answers with an error: the
    // vcard-temp is then all there is.
    let v4 = get(handle, own, vcard4::items_request()).await;
    if let Err(QueryError::NotConnected) = v4 {
        return Err(QueryError::NotConnected);
    }
    if let Some(card) = vcard4::parse_items(v4.ok().flatten().as_ref()) {
        return Ok(OwnCard::from_card(&card));
    }
    let temp = get(handle, own, profile::vcard_request()).await?;
    Ok(temp
        .as_ref()
        .and_then(profile::parse_vcard)
        .map(|c| OwnCard::from_card(&c))
        .unwrap_or_default())
}

async fn save_vcard_temp(handle: &Handle, own: &BareJid, card: &OwnCard) -> Result<(), QueryError> {
    let current = get(handle, own, profile::vcard_request()).await?;
    let temp = vcard4::vcard_temp(current.as_ref(), card);
    roomtools::query(handle, to(own), false, temp).await?;
    Ok(())
}

/// Saves `card` as our profile: vcard-temp first, then the vCard4 item and the
/// nickname where our account has PEP. Fails when neither vCard took it.
pub async fn save(handle: &Handle, own: &BareJid, card: &OwnCard) -> Result<Saved, QueryError> {
    let temp = save_vcard_temp(handle, own, card).await;
    if let Err(QueryError::NotConnected) = temp {
        return Err(QueryError::NotConnected);
    }
    let mut saved = Saved {
        vcard_temp: temp.is_ok(),
        ..Saved::default()
    };
    if !support(handle, own).await.pep {
        return temp.map(|()| saved);
    }
    // A server converting vcard-temp (Prosody's mod_vcard_legacy) has written a vCard4
    // from it already; ours replaces it with the fields it does not map kept.
    let current4 = get(handle, own, vcard4::items_request())
        .await
        .ok()
        .flatten();
    let v4 = vcard4::vcard4(vcard4::vcard_of_items(current4.as_ref()), card);
    match roomtools::query(handle, to(own), false, vcard4::publish_vcard4(v4)).await {
        Ok(_) => saved.vcard4 = true,
        Err(e) if saved.vcard_temp => log::info!("{own}: vCard4 not published: {e}"),
        Err(e) => return Err(e),
    }
    if let Err(e) = &temp {
        log::info!("{own}: no vcard-temp ({e}); the profile is in the vCard4 only");
    }
    let nick = vcard4::publish_nick(&card.nickname);
    match roomtools::query(handle, to(own), false, nick).await {
        Ok(_) => saved.nick = true,
        Err(e) => log::info!("{own}: nickname not published: {e}"),
    }
    Ok(saved)
}

/// Takes our avatar away: an empty metadata item where our account has PEP (our other
/// clients and contacts hear of it), then our vcard-temp without its `PHOTO`.
pub async fn remove_avatar(handle: &Handle, own: &BareJid) -> Result<(), QueryError> {
    use crate::xmpp::avatar;
    if support(handle, own).await.pep {
        roomtools::query(handle, to(own), false, avatar::publish_no_metadata()).await?;
    }
    let current = get(handle, own, profile::vcard_request()).await?;
    let has_photo = current
        .as_ref()
        .is_some_and(|c| c.get_child("PHOTO", avatar::NS_VCARD).is_some());
    if has_photo {
        let vcard = avatar::vcard_without_photo(current.as_ref());
        roomtools::query(handle, to(own), false, vcard).await?;
    }
    Ok(())
}
