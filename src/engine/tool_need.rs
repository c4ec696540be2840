//! Whether a step's task asks for what tools do. A small model handed a tool guide it has no
//! use for tends to copy the guide into its answer, so providers that say so (the embedded model)
//! are offered tools only for tasks that mention files, folders, the workspace, web pages or
//! commands.

use std::sync::LazyLock;

use regex::Regex;

static NEEDS_TOOLS: LazyLock<Regex> = LazyLock::new(|| {
    let pattern = r"(?ix)
        https?://
        | \b[\w-]+\.(md|txt|csv|json|toml|ya?ml|py|rs|js|ts|html?|log|pdf|xml|ini|cfg|sh)\b
        | \b(files?|folders?|director(y|ies)|workspace|paths?|documents?|notes|readme
            |urls?|links?|websites?|web\ ?pages?|webpage|sites?|online|internet|download
            |fetch|commands?|scripts?|shell|terminal|code\ ?base|repo(sitory)?|source\ code)\b";
    match Regex::new(pattern) {
        Ok(re) => re,
        Err(e) => unreachable!("the pattern is a constant: {e}"),
    }
});

pub fn task_needs_tools(task: &str) -> bool {
    NEEDS_TOOLS.is_match(task)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_that_name_files_pages_or_commands_need_tools() {
        for task in [
            "Read notes.md and summarise it",
            "List the files in the workspace",
            "Fetch https://example.com and extract the prices",
            "Look at the project's source code and find the bug",
            "Run the test command and report what fails",
            "Summarise the documents in the reports folder",
        ] {
            assert!(task_needs_tools(task), "{task}");
        }
    }

    #[test]
    fn research_analysis_and_writing_do_not() {
        for task in [
            "Find the main facts about tea for students",
            "Compare solar and wind power for a small farm",
            "Write a short history of the bicycle",
            "Profile the top three competitors",
        ] {
            assert!(!task_needs_tools(task), "{task}");
        }
    }
}
