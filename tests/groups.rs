//! Contact groups on a real Prosody: putting contacts in groups and renaming a group
//! (one roster set per member) reach the account's other client as roster pushes, and
//! the server keeps them for the next sign-in.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod support;

use loquat::ids::AccountId;
use loquat::model::Contact;
use loquat::session::{Command, UpdateKind};
use std::collections::BTreeMap;
use support::TestServer;
use support::session::{Updates, jid, local_params, online, wait_for};

/// Waits until the roster seen through `updates` (starting from `roster`) satisfies
/// `done`; returns it.
async fn roster_until(
    updates: &mut Updates,
    roster: &mut BTreeMap<String, Vec<String>>,
    what: &str,
    done: impl Fn(&BTreeMap<String, Vec<String>>) -> bool,
) {
    while !done(roster) {
        let change = wait_for(updates, 20, what, |k| match k {
            UpdateKind::Roster(all) => Some(all.clone()),
            UpdateKind::ContactChanged(c) => Some(vec![c.clone()]),
            _ => None,
        })
        .await;
        for Contact { jid, groups, .. } in change {
            let mut groups = groups.clone();
            groups.sort();
            roster.insert(jid.to_string(), groups);
        }
    }
}

fn groups(list: &[&str]) -> Vec<String> {
    list.iter().map(|g| (*g).to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_rename_reaches_the_other_client_and_stays() {
    let server = TestServer::start();
    let (address, password) = server.fresh_user("groups");
    let params = |resource: &str| {
        let mut p = local_params(
            AccountId::generate(),
            server.c2s_port(),
            server.ca_pem(),
            &address,
            &password,
            None,
        );
        p.resource = Some(resource.to_owned());
        p
    };
    let (mut here, h, _) = online(params("here")).await;
    let (mut there, _t, _) = online(params("there")).await;

    let members = [
        ("b@example.org", &["Work", "Friends"][..]),
        ("c@example.org", &["Work"]),
        ("d@example.org", &["Family"]),
    ];
    for (who, _) in members {
        h.send(Command::AddContact {
            jid: jid(who),
            name: None,
            subscribe: false,
        })
        .unwrap();
    }
    let mut mine = BTreeMap::new();
    roster_until(&mut here, &mut mine, "the contacts here", |r| r.len() == 3).await;
    for (who, in_groups) in members {
        h.send(Command::SetContactGroups {
            jid: jid(who),
            name: None,
            groups: groups(in_groups),
        })
        .unwrap();
    }
    let mut theirs = BTreeMap::new();
    roster_until(&mut there, &mut theirs, "the groups there", |r| {
        r.get("b@example.org") == Some(&groups(&["Friends", "Work"]))
            && r.get("d@example.org") == Some(&groups(&["Family"]))
    })
    .await;
    // Our own session saw its pushes too (it sets nothing locally before the server).
    roster_until(&mut here, &mut mine, "the groups here", |r| {
        r.get("c@example.org") == Some(&groups(&["Work"]))
    })
    .await;

    h.send(Command::RenameGroup {
        from: "Work".into(),
        to: "Office".into(),
    })
    .unwrap();
    roster_until(&mut there, &mut theirs, "the rename there", |r| {
        r.get("b@example.org") == Some(&groups(&["Friends", "Office"]))
            && r.get("c@example.org") == Some(&groups(&["Office"]))
    })
    .await;
    assert_eq!(theirs.get("d@example.org"), Some(&groups(&["Family"])));

    // The server keeps it: a new sign-in reads the renamed group.
    drop(there);
    let (mut later, _l, _) = online(params("later")).await;
    let mut fresh = BTreeMap::new();
    roster_until(&mut later, &mut fresh, "the roster at sign-in", |r| {
        r.len() == 3
    })
    .await;
    assert_eq!(
        fresh.get("b@example.org"),
        Some(&groups(&["Friends", "Office"]))
    );
    assert_eq!(fresh.get("c@example.org"), Some(&groups(&["Office"])));
}
