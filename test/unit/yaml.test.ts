import { describe, expect, it } from 'vitest';
import { parseYaml, YamlError } from '../../lib/openstack/yaml';

describe('parseYaml', () => {
  it('reads a typical clouds.yaml', () => {
    const text = `# written by the installer
---
clouds:
  overcloud:   # the main cloud
    auth:
      auth_url: http://192.0.2.10:5000/v3
      username: "admin"
      password: 'it''s # not a comment'
      project_name: admin
      user_domain_name: Default
    region_name: regionOne
    interface: internal
    identity_api_version: 3
    verify: false
    regions:
      - regionOne
      - name: regionTwo
        values:
          interface: public
    api_timeout: 12.5
  empty:
`;
    expect(parseYaml(text, 'clouds.yaml')).toEqual({
      clouds: {
        overcloud: {
          auth: {
            auth_url: 'http://192.0.2.10:5000/v3',
            username: 'admin',
            password: "it's # not a comment",
            project_name: 'admin',
            user_domain_name: 'Default',
          },
          region_name: 'regionOne',
          interface: 'internal',
          identity_api_version: 3,
          verify: false,
          regions: ['regionOne', { name: 'regionTwo', values: { interface: 'public' } }],
          api_timeout: 12.5,
        },
        empty: null,
      },
    });
  });

  it('types scalars like PyYAML (YAML 1.1)', () => {
    const v = parseYaml(`a: yes\nb: No\nc: on\nd: ~\ne: null\nf: 010\ng: -3\nh: "yes"\ni: 1.0.1\nj: True\nk: 0x1F\nl: ''\nm: y\nn: N\no: OFF\n`);
    expect(v).toEqual({ a: true, b: false, c: true, d: null, e: null, f: 8, g: -3, h: 'yes', i: '1.0.1', j: true, k: 31, l: '', m: 'y', n: 'N', o: false });
  });

  it('reads anchors, aliases, merge keys, tags, multi-line plain scalars and duplicate keys like PyYAML', () => {
    expect(parseYaml('base: &b {x: 1, y: 2}\nc:\n  <<: *b\n  y: 3\nd: *b\n')).toEqual({ base: { x: 1, y: 2 }, c: { x: 1, y: 3 }, d: { x: 1, y: 2 } });
    expect(parseYaml('a: !!str 1\nb: one\n  two\nc: 1\nc: 2\n')).toEqual({ a: '1', b: 'one two', c: 2 });
    expect(parseYaml('a:\tb\n')).toEqual({ a: 'b' });
  });

  it('handles double-quoted escapes, quoted keys, colons in values and comments', () => {
    const v = parseYaml(`"key: one": "tab\\there \\u00e9"\nurl: http://h:5000/v3 # comment\npw: a#b\n'k2': [a, "b, c", 3]\nmap: {x: 1, y: [true]}\n`);
    expect(v).toEqual({ 'key: one': 'tab\there \u00e9', url: 'http://h:5000/v3', pw: 'a#b', k2: ['a', 'b, c', 3], map: { x: 1, y: [true] } });
  });

  it('reads sequences at the same indentation as their key and nested sequences', () => {
    expect(parseYaml(`list:\n- a\n- b\nnested:\n  - - x\n    - y\n  -\n    k: v\n`)).toEqual({ list: ['a', 'b'], nested: [['x', 'y'], { k: 'v' }] });
  });

  it('reads literal and folded block scalars', () => {
    const v = parseYaml(`cert: |\n  line one\n  line two\nfolded: >-\n  a\n  b\n\n  c\nnext: 1\n`);
    expect(v).toEqual({ cert: 'line one\nline two\n', folded: 'a b\nc', next: 1 });
  });

  it('returns null for an empty document', () => {
    expect(parseYaml('# nothing\n\n')).toBeNull();
  });

  const bad: [string, string, number, RegExp][] = [
    ['tab indentation', 'a:\n\tb: 1\n', 2, /Tabs are not allowed as indentation/],
    ['alias without anchor', 'a: 1\nb: *x\n', 2, /Unresolved alias/],
    ['unterminated quote', 'a:\n  b: "abc\n', 3, /Missing closing "quote/],
    ['bad indentation', 'a:\n    b: 1\n  c: 2\n', 3, /same column/],
    ['no colon', 'a: 1\njust text\n', 2, /Implicit map keys need to be followed by map values/],
    ['second document', 'a: 1\n---\nb: 2\n', 2, /multiple documents/],
    ['flow garbage', 'a: [1, 2\n', 2, /Flow sequence/],
  ];
  for (const [name, text, line, re] of bad) {
    it(`refuses ${name} with file and line`, () => {
      let err: unknown;
      try { parseYaml(text, '/etc/openstack/clouds.yaml'); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(YamlError);
      expect((err as YamlError).line).toBe(line);
      expect((err as Error).message).toMatch(new RegExp(`^/etc/openstack/clouds\\.yaml:${line}: `));
      expect((err as Error).message).toMatch(re);
    });
  }
});
