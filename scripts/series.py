#!/usr/bin/env python3
"""Read patches/series, the manifest of the series, for mktree.sh and series.sh.

patches/series lists the commits of the series in order. A line at the
start of a line is a commit:

    NNNN-name.patch    a patch to upstream files, patches/NNNN-name.patch;
                       its header (Subject: and the lines up to "---") is
                       the commit message
    msg/name.msg       a commit of new files only; patches/msg/name.msg
                       holds its message (a Subject: line, a blank line,
                       the body)

and the indented lines under it are the new files that commit adds: our
files at their kernel paths, under the directories of NEW_DIRS. Every such
file of the repository is listed exactly once. Both scripts stop when the
manifest and the repository disagree, so the tree `make tree` builds and
the series `make series` writes have one source.

A patch may also change our files that an earlier commit added, so that a
file grows with the series (a module declared by the commit that adds the
module). The repository holds every file as the series leaves it: the
commit that adds a file adds it with the hunks of the later patches taken
back out (`first`), and mktree.sh, which writes our files whole, leaves
those hunks out of the patches it applies (`apply`).

MAINTAINERS is not a patch: every commit that adds a file must update it
(checkpatch's FILE_PATH_CHANGES), so our section, patches/maintainers,
grows with the series. At each commit it holds the F: patterns that match a
file added so far, and each commit that adds files must add a pattern.

    series.py check              validate; print nothing, exit 1 on errors
    series.py files              the new files, NUL-separated
    series.py plan               one line per commit: N, kind, entry, files
    series.py message N          commit N's message, with the Signed-off-by
                                 of config/series.env (SERIES_NAME/EMAIL)
    series.py maintainers [N]    MAINTAINERS on stdin, with our section as
                                 of commit N (default: the last) on stdout
    series.py apply              per patch, a line: the patch, then
                                 --exclude=FILE for each of our files it
                                 changes (git apply's options for mktree.sh)
    series.py first FILE         FILE as the commit that adds it adds it
"""
import fnmatch
import os
import re
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PATCHES = os.path.join(REPO, "patches")
NEW_DIRS = ["Documentation", "arch", "include", "kernel", "lib", "mm", "net",
            "rust", "security", "tools"]


def die(errors):
    for e in errors:
        print(f"series: {e}", file=sys.stderr)
    sys.exit(1)


def parse():
    """The commits: a list of (kind, entry, [files]), kind 'patch' or 'msg'."""
    commits, errors = [], []
    with open(os.path.join(PATCHES, "series")) as f:
        for n, raw in enumerate(f, 1):
            line = raw.split("#", 1)[0].rstrip()
            if not line.strip():
                continue
            if line[0] in " \t":
                if not commits:
                    errors.append(f"patches/series:{n}: a file before any commit")
                    continue
                commits[-1][2].append(line.strip())
            elif line.endswith(".patch") and "/" not in line:
                commits.append(("patch", line, []))
            elif line.startswith("msg/") and line.endswith(".msg"):
                commits.append(("msg", line, []))
            else:
                errors.append(f"patches/series:{n}: not a patch, a msg/*.msg or an indented file: {line}")
    for kind, entry, files in commits:
        if not os.path.isfile(os.path.join(PATCHES, entry)):
            errors.append(f"patches/{entry} does not exist")
        if kind == "msg" and not files:
            errors.append(f"{entry}: a commit of new files adds no file")
    return commits, errors


_repo_files = None


def repo_files_set():
    global _repo_files
    if _repo_files is None:
        _repo_files = set(repo_files())
    return _repo_files


def first_version(commits, path):
    """PATH as the commit that adds it adds it: the repository's file with the hunks of the
    later patches that change it reversed, last patch first."""
    with open(os.path.join(REPO, path), "rb") as f:
        text = f.read()
    later = [e for kind, e, _ in commits if kind == "patch" and path in patch_files(e)]
    if not later:
        return text
    with tempfile.TemporaryDirectory() as tmp:
        dest = os.path.join(tmp, path)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, "wb") as f:
            f.write(text)
        for entry in reversed(later):
            r = subprocess.run(["git", "apply", "-R", f"--include={path}",
                                os.path.join(PATCHES, entry)], cwd=tmp,
                               capture_output=True, text=True,
                               env={k: v for k, v in os.environ.items()
                                    if not k.startswith("GIT_")})
            if r.returncode:
                die([f"{path}: the hunks of patches/{entry} do not reverse: {r.stderr.strip()}"])
        with open(dest, "rb") as f:
            return f.read()


def repo_files():
    out = subprocess.run(
        ["git", "-C", REPO, "ls-files", "-z", "--cached", "--others",
         "--exclude-standard", "--"] + NEW_DIRS,
        check=True, stdout=subprocess.PIPE, env={k: v for k, v in os.environ.items()
                                                 if k != "GIT_INDEX_FILE"}).stdout
    return [f for f in out.decode().split("\0") if f]


def patch_files(entry):
    """The files a patch changes."""
    with open(os.path.join(PATCHES, entry)) as f:
        return [m.group(2) for m in re.finditer(r"(?m)^diff --git a/(\S+) b/(\S+)$", f.read())]


def validate():
    commits, errors = parse()
    seen = {}
    for kind, entry, files in commits:
        if kind == "patch":
            for f in patch_files(entry):
                if f in files:
                    errors.append(f"{entry} changes {f}, which it adds: change the file instead")
                elif f in repo_files_set() and f not in seen:
                    errors.append(f"{entry} changes {f}, which no earlier commit adds")
        for f in files:
            if f in seen:
                errors.append(f"{f} is in two commits: {seen[f]} and {entry}")
            seen[f] = entry
    present = set(repo_files())
    for f in sorted(present - set(seen)):
        errors.append(f"{f} is in no commit: list it, indented, under the commit "
                      "that adds it in patches/series")
    for f in sorted(set(seen) - present):
        errors.append(f"{f} (under {seen[f]} in patches/series) is not in the repository")
    entries = [e for _, e, _ in commits]
    for e in sorted(set(x for x in entries if entries.count(x) > 1)):
        errors.append(f"{e} is in patches/series twice")
    return commits, errors


# MAINTAINERS

def read_section():
    """Our section of MAINTAINERS: (header lines, F: patterns)."""
    head, pats = [], []
    with open(os.path.join(PATCHES, "maintainers")) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            if line.startswith("F:\t"):
                pats.append(line[3:])
            else:
                head.append(line)
    return head, pats


def matches(pattern, path):
    """get_maintainer.pl's rule: a directory matches what is below it; a
    '*' or '?' does not cross a '/'."""
    if pattern.endswith("/"):
        return path.startswith(pattern)
    return path.count("/") == pattern.count("/") and fnmatch.fnmatchcase(path, pattern)


def section_errors(commits):
    head, pats = read_section()
    errors = []
    if pats != sorted(pats):
        errors.append("patches/maintainers: list the F: patterns in alphabetic order")
    allf = [f for _, _, files in commits for f in files]
    for f in allf:
        if not any(matches(p, f) for p in pats):
            errors.append(f"{f} matches no F: pattern of patches/maintainers")
    for p in pats:
        if not any(matches(p, f) for f in allf):
            errors.append(f"patches/maintainers: F:\t{p} matches no file of ours")
    covered = set()
    for kind, entry, files in commits:
        new = {p for p in pats if p not in covered and any(matches(p, f) for f in files)}
        if files and not new:
            errors.append(f"{entry} adds files but no F: pattern of patches/maintainers "
                          "(checkpatch FILE_PATH_CHANGES): give one of its files a pattern")
        covered |= new
    return errors


def maintainers(text, commits, upto):
    head, pats = read_section()
    files = [f for _, _, fs in commits[:upto] for f in fs]
    pats = [p for p in pats if any(matches(p, f) for f in files)]
    title = head[0]
    lines = text.split("\n")
    # Drop our section if the input has it.
    if title in lines:
        i = lines.index(title)
        j = i
        while j < len(lines) and lines[j]:
            j += 1
        del lines[i:j + 1]
    if not pats:
        return "\n".join(lines)
    block = head + [f"F:\t{p}" for p in pats] + [""]
    # Sections are a title line after a blank line, then "X:\t" lines. Ours
    # goes after the section whose title is the last to sort before it
    # (MAINTAINERS is not sorted everywhere), before the title that follows.
    titles = [i for i in range(1, len(lines) - 1)
              if lines[i - 1] == "" and lines[i] and re.match(r"[A-Z]:\t", lines[i + 1])]
    before = [i for i in titles if lines[i].upper() < title.upper()]
    if not before:
        die(["MAINTAINERS: found no section to put ours after"])
    prev = max(before, key=lambda i: lines[i].upper())
    nxt = [i for i in titles if i > prev]
    at = nxt[0] if nxt else len(lines)
    lines[at:at] = block
    return "\n".join(lines)


# Messages

def header(path):
    """The Subject and body of a patch header or a .msg file."""
    with open(path) as f:
        text = f.read()
    lines = text.split("\n")
    if path.endswith(".patch"):
        lines = lines[:lines.index("---")] if "---" in lines else lines
    subject, errors, i = None, [], 0
    while i < len(lines) and lines[i]:
        m = re.match(r"([A-Za-z-]+):\s*(.*)", lines[i])
        if not m:
            errors.append(f"{path}: not a header line: {lines[i]}")
            break
        val = m.group(2)
        while i + 1 < len(lines) and lines[i + 1][:1] in (" ", "\t") and lines[i + 1].strip():
            i += 1
            val += " " + lines[i].strip()
        if m.group(1) == "Subject":
            subject = re.sub(r"^\[[^]]*\]\s*", "", val)
        else:
            errors.append(f"{path}: header {m.group(1)}: the message has only a Subject: "
                          "(the identity is config/series.env's)")
        i += 1
    body = "\n".join(lines[i:]).strip("\n")
    if re.search(r"^(Signed-off-by|From):", body, re.M):
        errors.append(f"{os.path.relpath(path, REPO)}: a From: or Signed-off-by: line: "
                      "series.sh adds the one of config/series.env")
    if not subject:
        errors.append(f"{path}: no Subject:")
    if errors:
        die(errors)
    return subject, body


def message(commit):
    kind, entry, files = commit
    subject, body = header(os.path.join(PATCHES, entry))
    name, email = os.environ.get("SERIES_NAME"), os.environ.get("SERIES_EMAIL")
    if not name or not email:
        die(["SERIES_NAME and SERIES_EMAIL unset (config/series.env)"])
    return f"{subject}\n\n{body}\n\nSigned-off-by: {name} <{email}>\n"


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else "check"
    commits, errors = validate()
    errors += section_errors(commits)
    if errors:
        die(errors)
    if cmd == "check":
        return
    if cmd == "files":
        sys.stdout.write("".join(f + "\0" for _, _, fs in commits for f in fs))
    elif cmd == "plan":
        for n, (kind, entry, files) in enumerate(commits, 1):
            print("\t".join([str(n), kind, entry] + files))
    elif cmd == "message":
        sys.stdout.write(message(commits[int(sys.argv[2]) - 1]))
    elif cmd == "apply":
        ours = repo_files_set()
        for kind, entry, _ in commits:
            if kind == "patch":
                print(" ".join([entry] + [f"--exclude={f}" for f in patch_files(entry)
                                          if f in ours]))
    elif cmd == "first":
        sys.stdout.buffer.write(first_version(commits, sys.argv[2]))
    elif cmd == "maintainers":
        upto = int(sys.argv[2]) if len(sys.argv) > 2 else len(commits)
        sys.stdout.write(maintainers(sys.stdin.read(), commits, upto))
    else:
        die([f"unknown command {cmd}"])


main()
