//! `el-jefe users`: the people who may connect to this data dir's server, and their roles.

use super::Context;
use el_jefe::protocol::Role;
use el_jefe::server::people::People;

pub fn add(cx: &Context, name: &str, role: Role) -> anyhow::Result<i32> {
    let mut people = People::load(&cx.dirs.people_file())?;
    let token = people.add(name, role)?;
    let article = if role == Role::Operator || role == Role::Admin {
        "an"
    } else {
        "a"
    };
    println!("{name} is {article} {role}. Their token, shown this once:");
    println!();
    println!("  {token}");
    println!();
    println!("They connect with: el-jefe --server URL --token TOKEN (or EL_JEFE_TOKEN=TOKEN)");
    Ok(0)
}

pub fn list(cx: &Context) -> anyhow::Result<i32> {
    let people = People::load(&cx.dirs.people_file())?;
    if people.list().is_empty() {
        println!("nobody yet: el-jefe users add NAME --role viewer|operator|admin");
        return Ok(0);
    }
    println!("{:<24} {:<9} STATE", "NAME", "ROLE");
    for person in people.list() {
        let state = match (person.revoked, person.owner) {
            (true, _) => "revoked",
            (false, true) => "server owner",
            (false, false) => "active",
        };
        println!("{:<24} {:<9} {state}", person.name, person.role.label());
    }
    Ok(0)
}

pub fn revoke(cx: &Context, name: &str) -> anyhow::Result<i32> {
    let mut people = People::load(&cx.dirs.people_file())?;
    people.revoke(name)?;
    println!(
        "{name}'s token is revoked: refused from now on, and their open connections close within seconds"
    );
    Ok(0)
}
