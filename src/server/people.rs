//! The people who may connect: a name, a role and the hash of their token. Tokens are random,
//! shown once, and only their SHA-256 is kept.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::format::hex;
use crate::protocol::Role;
use crate::store::write_private;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub name: String,
    pub role: Role,
    /// Hex SHA-256 of the token.
    pub token_hash: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub revoked: bool,
    /// The user who runs the server; their token is renewed at every start and kept in the
    /// server file, for their own clients.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub owner: bool,
}

/// Everyone known to this server, kept in one JSON file of the data dir.
#[derive(Debug, Clone, Default)]
pub struct People {
    path: PathBuf,
    people: Vec<Person>,
    /// When the file was last read or written, to see changes made by `el-jefe users`.
    modified: Option<SystemTime>,
}

#[derive(Debug, thiserror::Error)]
pub enum PeopleError {
    #[error("cannot read {path}: {why}")]
    Read { path: String, why: String },
    #[error("cannot write {path}: {why}")]
    Write { path: String, why: String },
    #[error("{0}")]
    Bad(String),
}

impl People {
    pub fn load(path: &Path) -> Result<People, PeopleError> {
        let people = match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| PeopleError::Read {
                path: path.display().to_string(),
                why: e.to_string(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => {
                return Err(PeopleError::Read {
                    path: path.display().to_string(),
                    why: e.to_string(),
                });
            }
        };
        Ok(People {
            path: path.to_path_buf(),
            people,
            modified: modified(path),
        })
    }

    /// Reads the file again if another process changed it (a person added or revoked while
    /// the server runs). A file that became unreadable keeps what was known.
    pub fn refresh(&mut self) {
        if modified(&self.path) == self.modified {
            return;
        }
        match People::load(&self.path) {
            Ok(fresh) => *self = fresh,
            Err(e) => tracing::warn!("keeping the people known before: {e}"),
        }
    }

    /// Gives the server's own user a new admin token, replacing the one of the last start.
    pub fn renew_owner(&mut self, name: &str) -> Result<String, PeopleError> {
        let token = new_token()?;
        self.people.retain(|p| !p.owner && p.name != name);
        self.people.push(Person {
            name: name.to_string(),
            role: Role::Admin,
            token_hash: hash(&token),
            revoked: false,
            owner: true,
        });
        self.save()?;
        Ok(token)
    }

    /// The person as they are now: None once revoked.
    pub fn current(&self, person: &Person) -> Option<&Person> {
        self.people
            .iter()
            .find(|p| !p.revoked && p.name == person.name && p.token_hash == person.token_hash)
    }

    pub fn list(&self) -> &[Person] {
        &self.people
    }

    /// Adds a person and returns their token, the only time it is ever seen.
    pub fn add(&mut self, name: &str, role: Role) -> Result<String, PeopleError> {
        let valid = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !valid {
            return Err(PeopleError::Bad(format!(
                "`{name}` is not a usable name: letters, digits, - _ . (at most 64)"
            )));
        }
        if self.people.iter().any(|p| p.name == name && !p.revoked) {
            return Err(PeopleError::Bad(format!("`{name}` already has a token")));
        }
        let token = new_token()?;
        self.people.retain(|p| p.name != name);
        self.people.push(Person {
            name: name.to_string(),
            role,
            token_hash: hash(&token),
            revoked: false,
            owner: false,
        });
        self.save()?;
        Ok(token)
    }

    pub fn revoke(&mut self, name: &str) -> Result<(), PeopleError> {
        let Some(person) = self
            .people
            .iter_mut()
            .find(|p| p.name == name && !p.revoked)
        else {
            return Err(PeopleError::Bad(format!(
                "nobody named `{name}` has a token"
            )));
        };
        person.revoked = true;
        self.save()
    }

    /// Who the token belongs to, unless it is unknown or revoked.
    pub fn who(&self, token: &str) -> Option<&Person> {
        let hashed = hash(token);
        self.people
            .iter()
            .find(|p| !p.revoked && p.token_hash == hashed)
    }

    fn save(&mut self) -> Result<(), PeopleError> {
        let write = |why: String| PeopleError::Write {
            path: self.path.display().to_string(),
            why,
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| write(e.to_string()))?;
        }
        let text = serde_json::to_string_pretty(&self.people).map_err(|e| write(e.to_string()))?;
        write_private(&self.path, &text).map_err(|e| write(e.to_string()))?;
        self.modified = modified(&self.path);
        Ok(())
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// `ej_` and 32 random bytes in hex, from the operating system's secure generator.
fn new_token() -> Result<String, PeopleError> {
    new_secret("ej_")
}

/// `prefix` and 32 random bytes in hex, from the operating system's secure generator.
pub(super) fn new_secret(prefix: &str) -> Result<String, PeopleError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| PeopleError::Bad(format!("no secure random numbers: {e}")))?;
    Ok(format!("{prefix}{}", hex(&bytes)))
}

/// What is kept of a secret: its SHA-256, so a copy of the file lets nobody in.
pub(super) fn hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_person_until_revoked_and_only_its_hash_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("people.json");
        let mut people = People::load(&path).unwrap();
        let token = people.add("ana", Role::Operator).unwrap();
        assert!(token.starts_with("ej_") && token.len() == 67, "{token}");
        assert_eq!(people.who(&token).map(|p| p.name.as_str()), Some("ana"));
        assert!(people.who("ej_wrong").is_none());

        let stored = std::fs::read_to_string(&path).unwrap();
        assert!(!stored.contains(&token), "the token itself is stored");
        let reloaded = People::load(&path).unwrap();
        assert_eq!(reloaded.who(&token).map(|p| p.role), Some(Role::Operator));

        people.revoke("ana").unwrap();
        assert!(people.who(&token).is_none());
        assert!(People::load(&path).unwrap().who(&token).is_none());
        assert!(people.add("bad name", Role::Viewer).is_err());
    }
}
