//! Browsers signed in to the web dashboard. A browser holds a random cookie; the server keeps
//! only its hash, with the person it stands for and that person's token hash at sign-in, so a
//! revoked or renewed token signs its browsers out too. Kept on disk so a restarted server
//! does not sign everyone out. The one-time link `serve` prints is the first way in.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::people::{People, PeopleError, Person, hash, new_secret};
use crate::store::write_private;

/// Browsers kept signed in at most; the oldest sign-in goes first.
const MAX_LOGINS: usize = 200;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Login {
    cookie_hash: String,
    name: String,
    token_hash: String,
}

#[derive(Debug)]
pub struct WebLogins {
    path: PathBuf,
    logins: Vec<Login>,
    /// The hash of the one-time link's code and the person it signs in, until it is used.
    link: Option<(String, Person)>,
}

impl WebLogins {
    /// The logins kept in `path`; a file that cannot be read signs everyone out, with a warning.
    pub fn load(path: &Path) -> WebLogins {
        let logins = match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).unwrap_or_else(|e| {
                tracing::warn!("{}: {e}; browsers must sign in again", path.display());
                Vec::new()
            }),
            Err(_) => Vec::new(),
        };
        WebLogins {
            path: path.to_path_buf(),
            logins,
            link: None,
        }
    }

    /// A new one-time sign-in code for `person` (the last one stops working).
    pub fn new_link(&mut self, person: &Person) -> Result<String, PeopleError> {
        let code = new_secret("")?;
        self.link = Some((hash(&code), person.clone()));
        Ok(code)
    }

    /// The person the one-time code signs in; the code is used up.
    pub fn use_link(&mut self, code: &str, people: &People) -> Option<Person> {
        let (_, person) = self.link.take_if(|(h, _)| *h == hash(code))?;
        people.current(&person).cloned()
    }

    /// Signs a browser in as `person`: the cookie to give it.
    pub fn sign_in(&mut self, person: &Person) -> Result<String, PeopleError> {
        let cookie = new_secret("")?;
        self.logins.push(Login {
            cookie_hash: hash(&cookie),
            name: person.name.clone(),
            token_hash: person.token_hash.clone(),
        });
        if self.logins.len() > MAX_LOGINS {
            let extra = self.logins.len() - MAX_LOGINS;
            self.logins.drain(..extra);
        }
        self.save()?;
        Ok(cookie)
    }

    /// Who the browser with `cookie` is, if that person's token still stands.
    pub fn who(&self, cookie: &str, people: &People) -> Option<Person> {
        let hashed = hash(cookie);
        let login = self.logins.iter().find(|l| l.cookie_hash == hashed)?;
        people
            .list()
            .iter()
            .find(|p| !p.revoked && p.name == login.name && p.token_hash == login.token_hash)
            .cloned()
    }

    pub fn sign_out(&mut self, cookie: &str) -> Result<(), PeopleError> {
        let hashed = hash(cookie);
        self.logins.retain(|l| l.cookie_hash != hashed);
        self.save()
    }

    fn save(&self) -> Result<(), PeopleError> {
        let write = |why: String| PeopleError::Write {
            path: self.path.display().to_string(),
            why,
        };
        let text = serde_json::to_string_pretty(&self.logins).map_err(|e| write(e.to_string()))?;
        write_private(&self.path, &text).map_err(|e| write(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Role;

    #[test]
    fn a_link_signs_in_once_and_a_revoked_person_is_signed_out() {
        let dir = tempfile::tempdir().unwrap();
        let mut people = People::load(&dir.path().join("people.json")).unwrap();
        people.add("ana", Role::Operator).unwrap();
        let ana = people.list()[0].clone();
        let mut logins = WebLogins::load(&dir.path().join("web-logins.json"));

        let code = logins.new_link(&ana).unwrap();
        assert!(logins.use_link("not-the-code", &people).is_none());
        let signed = logins.use_link(&code, &people).unwrap();
        assert_eq!(signed.name, "ana");
        assert!(logins.use_link(&code, &people).is_none(), "used up");

        let cookie = logins.sign_in(&signed).unwrap();
        let again = WebLogins::load(&dir.path().join("web-logins.json"));
        assert_eq!(again.who(&cookie, &people).unwrap().name, "ana");
        let kept = std::fs::read_to_string(dir.path().join("web-logins.json")).unwrap();
        assert!(!kept.contains(&cookie), "only the hash is kept");

        people.revoke("ana").unwrap();
        assert!(again.who(&cookie, &people).is_none());
    }
}
