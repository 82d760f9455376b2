import { isMap, isScalar, isSeq, parseDocument, YAMLMap, YAMLSeq } from "yaml";
import type { Document } from "yaml";

/**
 * Merging roadside's first-boot step into the cloud-init `user-data` that Raspberry Pi Imager (or a
 * person) wrote on the card's boot partition. Everything already there stays: users, SSH keys,
 * password hashes, hostname, `rpi:` settings, comments, other runcmd entries. roadside adds one
 * runcmd entry; a re-run finds it by its text and puts the same entry back, so running provision
 * twice leaves the same bytes.
 */

/** The folders the boot partition is mounted at: /boot/firmware on Raspberry Pi OS since bookworm, /boot before. */
export const BOOT_DIRS = ["/boot/firmware", "/boot"] as const;

/** Folder on the boot partition that holds roadside's seed (bundle, firstboot.sh, etc/). */
export const SEED_FOLDER = "roadside";

/** Texts that mark our runcmd entry (its log tag, the script's path); an entry containing one is ours and is replaced on a re-run. */
export const RUNCMD_MARKS = ["roadside-firstboot", `${SEED_FOLDER}/firstboot.sh`] as const;

/**
 * The runcmd entry. cloud-init turns a list entry into one shell-quoted command line of its runcmd
 * script; `sh -c` looks for firstboot.sh in each boot folder. The FAT partition has no exec bits,
 * so the script is run by bash, not executed.
 */
export const RUNCMD_ENTRY: readonly string[] = [
  "sh",
  "-c",
  `for d in ${BOOT_DIRS.map((d) => `${d}/${SEED_FOLDER}`).join(" ")}; do if [ -f "$d/firstboot.sh" ]; then exec bash "$d/firstboot.sh"; fi; done; m="roadside: no firstboot.sh in ${BOOT_DIRS.map((d) => `${d}/${SEED_FOLDER}`).join(" or ")}"; echo "$m" >&2; logger -t roadside-firstboot "$m" 2>/dev/null; exit 1`,
];

const ENTRY_COMMENT = " roadside first boot (written by `roadside provision --seed`; a re-run replaces this entry)";

export class UserDataError extends Error {}

/** Whether a runcmd item (a string or a list of strings) is the one roadside wrote. */
function isOurs(item: unknown): boolean {
  const marked = (v: unknown): boolean => isScalar(v) && RUNCMD_MARKS.some((m) => String(v.value).includes(m));
  if (isSeq(item)) return item.items.some(marked);
  return marked(item);
}

/**
 * `text`: the current user-data, or undefined when there is none. Returns the merged user-data,
 * starting with `#cloud-config`. Throws UserDataError (naming `file` and the fix) for user-data
 * that is not a cloud-config mapping: a shell script, MIME multipart or broken YAML.
 */
export function mergeUserData(text: string | undefined, file = "user-data"): string {
  const source = text === undefined || text.trim() === "" ? "#cloud-config\n" : text.replace(/^\uFEFF/, "");
  const first = source.split(/\r?\n/, 1)[0]!.trimEnd();
  if (first !== "#cloud-config") {
    const kind = first.startsWith("#!")
      ? "a script"
      : first.startsWith("Content-Type")
        ? "MIME multipart"
        : first.startsWith("#include")
          ? "an #include list"
          : `a file starting ${JSON.stringify(first.slice(0, 40))}`;
    throw new UserDataError(
      `${file} is ${kind}, not a #cloud-config file, so roadside cannot add its first-boot step to it; start from the user-data Raspberry Pi Imager writes, or remove ${file} to have a new one written`,
    );
  }
  // the header is a comment to YAML: parse what follows it and put the header back byte for byte
  const body = source.slice(source.indexOf("\n") + 1 || source.length);
  const doc: Document = parseDocument(body);
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const at = e.linePos?.[0] ? ` at line ${e.linePos[0].line + 1}, column ${e.linePos[0].col}` : "";
    throw new UserDataError(
      `${file} is not valid YAML${at}: ${e.message.split("\n")[0]}; fix it (or remove it to have a new one written), then run provision again`,
    );
  }
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    // comments only: they stay above a new mapping
    doc.contents = new YAMLMap();
  }
  if (!isMap(doc.contents))
    throw new UserDataError(
      `${file} must be a YAML mapping (keys such as users:, runcmd:); it is a ${isSeq(doc.contents) ? "list" : "single value"}`,
    );
  const map = doc.contents;
  let runcmd: unknown = map.get("runcmd", true);
  if (runcmd === undefined || runcmd === null || (isScalar(runcmd) && runcmd.value === null)) {
    const seq = new YAMLSeq();
    map.set("runcmd", seq);
    runcmd = seq;
  }
  if (!isSeq(runcmd))
    throw new UserDataError(`${file}: runcmd must be a list of commands; it is ${isMap(runcmd) ? "a mapping" : "a single value"}`);
  runcmd.items = runcmd.items.filter((i) => !isOurs(i));
  // before a list's first item, YAML gives the comment to the list: drop ours from there too
  if (runcmd.commentBefore) {
    const kept = runcmd.commentBefore.split("\n").filter((l) => l !== ENTRY_COMMENT);
    runcmd.commentBefore = kept.length > 0 ? kept.join("\n") : null;
  }
  const entry = doc.createNode([...RUNCMD_ENTRY]) as YAMLSeq;
  entry.flow = true;
  entry.commentBefore = ENTRY_COMMENT;
  runcmd.items.push(entry);
  return render(doc);
}

function render(doc: Document): string {
  return `#cloud-config\n${doc.toString({ lineWidth: 0 })}`;
}

/** Our runcmd entries in a user-data text (0 or 1 when all is well). For tests and `provision` to report. */
export function countOurEntries(text: string): number {
  const doc = parseDocument(text);
  const runcmd = isMap(doc.contents) ? doc.contents.get("runcmd", true) : undefined;
  return isSeq(runcmd) ? runcmd.items.filter(isOurs).length : 0;
}
