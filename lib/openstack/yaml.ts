/**
 * YAML for clouds.yaml and secure.yaml, read like openstacksdk reads them (PyYAML's safe_load): the `yaml` package
 * in YAML 1.1 mode (yes/no/on/off are booleans, merge keys `<<: *base`, anchors and aliases), with PyYAML's booleans
 * (y and n stay strings) and duplicate keys allowed (the last one wins). The package is loaded on the first parse:
 * only an agent that actually reads a clouds.yaml pays for it.
 */
import type * as YamlPackage from 'yaml';

export type YamlValue = null | boolean | number | string | Date | YamlValue[] | { [k: string]: YamlValue };

export class YamlError extends Error {
  override name = 'YamlError';
  constructor(message: string, readonly line: number) { super(message); }
}

/** PyYAML's resolver for booleans (YAML 1.1 without y/Y/n/N). */
const PYYAML_TRUE = /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/;
const PYYAML_FALSE = /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/;

let yamlPackage: typeof YamlPackage | undefined;
function load(): typeof YamlPackage {
  // a plain require, so that esbuild bundles the package and runs it on first use only
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (yamlPackage ??= require('yaml') as typeof YamlPackage);
}

/** One YAML document; YamlError with the file and line of the first problem. */
export function parseYaml(text: string, file = '<yaml>'): YamlValue {
  const yaml = load();
  const doc = yaml.parseDocument(text, {
    version: '1.1',
    merge: true,
    uniqueKeys: false,
    prettyErrors: false,
    customTags: (tags) => tags.map((t) => {
      const tag = t as YamlPackage.ScalarTag;
      if (tag.tag !== 'tag:yaml.org,2002:bool' || !(tag.test instanceof RegExp)) return t;
      return { ...tag, test: tag.test.test('true') ? PYYAML_TRUE : PYYAML_FALSE };
    }),
  });
  const err = doc.errors[0];
  if (err) {
    const line = err.linePos?.[0]?.line ?? lineOf(text, err.pos[0]);
    const what = err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    throw new YamlError(`${file}:${line}: ${what}`, line);
  }
  try {
    return (doc.toJS({ maxAliasCount: 1000 }) ?? null) as YamlValue;
  } catch (e) {
    // an alias without its anchor, or too many aliases (a "billion laughs" document)
    const alias = /: (\S+)$/.exec((e as Error).message)?.[1];
    const at = alias ? text.indexOf(`*${alias}`) : -1;
    const line = at >= 0 ? lineOf(text, at) : 1;
    throw new YamlError(`${file}:${line}: ${(e as Error).message}`, line);
  }
}

function lineOf(text: string, offset: number): number {
  return text.slice(0, offset).split('\n').length;
}
