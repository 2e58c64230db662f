/** Reading oslo.config ini files (nova.conf, cinder.conf): what the agents need of them, without a parser package. */
import * as fs from 'node:fs';

/** [section] key from an oslo.config ini file (first match; "" when absent or unreadable). */
export function iniValue(file: string, section: string, key: string): string {
  let text: string;
  try { text = fs.readFileSync(file, 'utf8'); } catch { return ''; }
  let cur = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) { cur = sec[1].trim(); continue; }
    if (cur.toLowerCase() !== section.toLowerCase()) continue;
    const m = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(line);
    if (m && m[1] === key) return m[2].trim();
  }
  return '';
}
