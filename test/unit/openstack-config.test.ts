import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../../lib/core/log';
import { ConfigError, configSearchPaths, parseInterface, resolveCloudConfig } from '../../lib/openstack/config';
import { rmDir, tmpDir } from '../fake/harness';

const ENV = {
  OS_AUTH_URL: 'http://env:5000/v3',
  OS_USERNAME: 'envuser',
  OS_PASSWORD: 'envpass',
  OS_PROJECT_NAME: 'envproject',
  OS_USER_DOMAIN_NAME: 'EnvDomain',
  OS_PROJECT_DOMAIN_NAME: 'EnvPDomain',
  OS_REGION_NAME: 'EnvRegion',
  OS_INTERFACE: 'admin',
  OS_CACERT: '/env/ca.pem',
};

describe('resolveCloudConfig', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const writeClouds = (text: string, name = 'clouds.yaml') => {
    fs.mkdirSync(path.join(dir, 'openstack'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'openstack', name), text);
  };

  beforeEach(() => {
    dir = tmpDir('oha-config-');
    // XDG_CONFIG_HOME points the user-level search at the temporary directory; HOME too, so ~/.config is not read
    env = { XDG_CONFIG_HOME: dir, HOME: dir };
  });
  afterEach(() => rmDir(dir));

  it('applies defaults', () => {
    const c = resolveCloudConfig({ authUrl: 'http://k:5000', username: 'u', password: 'p', projectName: 'pr' }, env);
    expect(c).toEqual({
      authUrl: 'http://k:5000', username: 'u', password: 'p', projectName: 'pr', userDomainName: 'Default', projectDomainName: 'Default',
      interface: 'public', insecure: false, timeoutMs: 30000, attempts: 3,
    });
  });

  it('reads OS_* variables', () => {
    const c = resolveCloudConfig({}, { ...env, ...ENV, OS_INSECURE: 'true' });
    expect(c).toMatchObject({
      authUrl: 'http://env:5000/v3', username: 'envuser', password: 'envpass', projectName: 'envproject', userDomainName: 'EnvDomain',
      projectDomainName: 'EnvPDomain', regionName: 'EnvRegion', interface: 'admin', cacert: '/env/ca.pem', insecure: true,
    });
  });

  it('maps OS_TENANT_NAME, OS_ENDPOINT_TYPE and the *_ID variables', () => {
    const c = resolveCloudConfig({}, {
      ...env, OS_AUTH_URL: 'http://e', OS_USER_ID: 'uid', OS_PASSWORD: 'p', OS_TENANT_NAME: 'tenant', OS_PROJECT_DOMAIN_ID: 'pdid',
      OS_ENDPOINT_TYPE: 'internalURL',
    });
    expect(c).toMatchObject({ userId: 'uid', projectName: 'tenant', projectDomainId: 'pdid', interface: 'internal' });
    expect(c.userDomainName).toBeUndefined();
    expect(c.projectDomainName).toBeUndefined();
  });

  it('gives agent parameters precedence over clouds.yaml, and clouds.yaml over OS_*', () => {
    writeClouds(`clouds:
  mycloud:
    auth:
      auth_url: http://yaml:5000/v3
      username: yamluser
      password: yamlpass
      project_name: yamlproject
      user_domain_id: yamldomainid
    region_name: YamlRegion
    interface: internal
`);
    const e = { ...env, ...ENV };
    // clouds.yaml over OS_*
    const y = resolveCloudConfig({ cloud: 'mycloud' }, e);
    expect(y).toMatchObject({
      authUrl: 'http://yaml:5000/v3', username: 'yamluser', password: 'yamlpass', projectName: 'yamlproject', userDomainId: 'yamldomainid',
      regionName: 'YamlRegion', interface: 'internal', projectDomainName: 'EnvPDomain', cacert: '/env/ca.pem',
    });
    expect(y.userDomainName).toBeUndefined();
    // parameters over clouds.yaml; a user domain name parameter replaces the yaml's domain id
    const p = resolveCloudConfig({ cloud: 'mycloud', username: 'paramuser', password: 'parampass', userDomain: 'ParamDomain', endpointType: 'publicURL' }, e);
    expect(p).toMatchObject({ authUrl: 'http://yaml:5000/v3', username: 'paramuser', password: 'parampass', userDomainName: 'ParamDomain',
      interface: 'public', projectName: 'yamlproject' });
    expect(p.userDomainId).toBeUndefined();
  });

  it('selects the cloud from OS_CLOUD and merges secure.yaml', () => {
    writeClouds(`clouds:
  prod:
    auth:
      auth_url: https://keystone.example:5000
      username: admin
      project_name: admin
    verify: false
    api_timeout: 7
    regions: [R1, R2]
`);
    writeClouds(`clouds:\n  prod:\n    auth:\n      password: "s3cret"\n`, 'secure.yaml');
    const c = resolveCloudConfig({}, { ...env, OS_CLOUD: 'prod', OS_PASSWORD: 'ignored' });
    expect(c).toMatchObject({ authUrl: 'https://keystone.example:5000', password: 's3cret', insecure: true, timeoutMs: 7000, regionName: 'R1' });
  });

  it('finds clouds.yaml through OS_CLIENT_CONFIG_FILE and searches like openstacksdk', () => {
    const file = path.join(dir, 'elsewhere.yaml');
    fs.writeFileSync(file, 'clouds:\n  c:\n    auth: {auth_url: "http://x", username: u, password: p, project_id: abc}\n');
    expect(resolveCloudConfig({ cloud: 'c' }, { ...env, OS_CLIENT_CONFIG_FILE: file })).toMatchObject({ authUrl: 'http://x', projectId: 'abc' });
    expect(configSearchPaths('clouds.yaml', { HOME: '/home/h' }, '/cwd')).toEqual([
      '/cwd/clouds.yaml', '/home/h/.config/openstack/clouds.yaml', '/etc/openstack/clouds.yaml',
    ]);
    expect(configSearchPaths('secure.yaml', { XDG_CONFIG_HOME: '/xdg' }, '/cwd')[1]).toBe('/xdg/openstack/secure.yaml');
  });

  it('prefers a complete application credential, unless auth_type says password', () => {
    const base = { ...env, OS_AUTH_URL: 'http://k', OS_USERNAME: 'u', OS_PASSWORD: 'p', OS_PROJECT_NAME: 'pr' };
    const c = resolveCloudConfig({ applicationCredentialId: 'acid', applicationCredentialSecret: 'acsecret' }, base);
    expect(c).toMatchObject({ applicationCredentialId: 'acid', applicationCredentialSecret: 'acsecret' });
    expect(c.password).toBeUndefined();
    expect(c.projectName).toBeUndefined();
    const p = resolveCloudConfig({ applicationCredentialId: 'acid', applicationCredentialSecret: 'acs' }, { ...base, OS_AUTH_TYPE: 'password' });
    expect(p.password).toBe('p');
    expect(p.applicationCredentialId).toBeUndefined();
    // by name: needs the user
    const n = resolveCloudConfig({}, { ...env, OS_AUTH_URL: 'http://k', OS_AUTH_TYPE: 'v3applicationcredential', OS_APPLICATION_CREDENTIAL_NAME: 'ha',
      OS_APPLICATION_CREDENTIAL_SECRET: 'x', OS_USERNAME: 'u' });
    expect(n).toMatchObject({ applicationCredentialName: 'ha', username: 'u', userDomainName: 'Default' });
    expect(() => resolveCloudConfig({}, { ...env, OS_AUTH_URL: 'http://k', OS_APPLICATION_CREDENTIAL_NAME: 'ha', OS_APPLICATION_CREDENTIAL_SECRET: 'x' }))
      .toThrow(/application_credential_name needs the user/);
    expect(() => resolveCloudConfig({}, { ...base, OS_AUTH_TYPE: 'v3oidcpassword' })).toThrow(/unsupported auth_type/);
  });

  it('maps endpoint types and rejects unknown ones', () => {
    expect(parseInterface('publicURL')).toBe('public');
    expect(parseInterface('internalURL')).toBe('internal');
    expect(parseInterface('adminURL')).toBe('admin');
    expect(parseInterface('internal')).toBe('internal');
    expect(parseInterface('Admin')).toBe('admin');
    const p = { authUrl: 'http://k', username: 'u', password: 'p' };
    expect(() => resolveCloudConfig({ ...p, endpointType: 'privateURL' }, env)).toThrow(ConfigError);
    expect(() => resolveCloudConfig({ ...p, endpointType: 'privateURL' }, env))
      .toThrow('invalid endpoint_type "privateURL": valid values are public, internal, admin (or publicURL, internalURL, adminURL)');
    expect(() => resolveCloudConfig(p, { ...env, OS_ENDPOINT_TYPE: 'internalurl ' })).not.toThrow();
    expect(() => resolveCloudConfig(p, { ...env, OS_INTERFACE: 'nope' })).toThrow(/OS_INTERFACE/);
  });

  it('reports missing settings clearly', () => {
    expect(() => resolveCloudConfig({ username: 'u', password: 'p' }, env)).toThrow(ConfigError);
    expect(() => resolveCloudConfig({ username: 'u', password: 'p' }, env)).toThrow(/no auth_url/);
    expect(() => resolveCloudConfig({ authUrl: 'http://k', username: 'u' }, env)).toThrow(/no credentials/);
    expect(() => resolveCloudConfig({ authUrl: 'http://k', password: 'p' }, env)).toThrow(/no username/);
    expect(() => resolveCloudConfig({ cloud: 'missing' }, env)).toThrow(/cloud "missing" requested but no clouds.yaml found/);
    writeClouds('clouds:\n  other: {}\n');
    expect(() => resolveCloudConfig({ cloud: 'missing' }, env)).toThrow(/cloud "missing" not found in .*clouds.yaml/);
  });

  it('reports a clouds.yaml it cannot parse with file and line', () => {
    writeClouds('clouds:\n  c:\n    auth:\n\t  auth_url: x\n');
    expect(() => resolveCloudConfig({ cloud: 'c' }, env)).toThrow(/clouds\.yaml:4: Tabs are not allowed as indentation/);
  });

  // clouds.yaml files that openstacksdk (PyYAML) reads and the hand-written parser refused: anchors and merge keys,
  // values over several lines; and a tab after the colon, a separator in YAML (PyYAML refuses it; the old parser
  // read "a:<TAB>b" as the string "a:\tb", and failed further down in a nested mapping)
  it('reads anchors and merge keys (<<: *base)', () => {
    writeClouds(`defaults: &defaults
  auth: &auth
    auth_url: http://k:5000/v3
    username: admin
    password: s3cret
    project_name: admin
  region_name: RegionOne
clouds:
  base: &base
    <<: *defaults
    interface: internal
  overcloud:
    <<: *base
    region_name: RegionTwo
  other:
    auth:
      <<: *auth
      username: operator
`);
    expect(resolveCloudConfig({ cloud: 'overcloud' }, env)).toMatchObject({
      authUrl: 'http://k:5000/v3', username: 'admin', password: 's3cret', projectName: 'admin', regionName: 'RegionTwo', interface: 'internal',
    });
    expect(resolveCloudConfig({ cloud: 'other' }, env)).toMatchObject({ authUrl: 'http://k:5000/v3', username: 'operator', password: 's3cret' });
  });

  it('reads values written over several lines', () => {
    writeClouds(`clouds:
  c:
    auth:
      auth_url:
        http://k:5000/v3
      username: admin
      password: "a long
        pass phrase"
      project_name: >-
        admin
    region_name: Region
      One
`);
    expect(resolveCloudConfig({ cloud: 'c' }, env)).toMatchObject({
      authUrl: 'http://k:5000/v3', username: 'admin', password: 'a long pass phrase', projectName: 'admin', regionName: 'Region One',
    });
  });

  it('reads a tab after the colon as a separator (key:<TAB>value)', () => {
    writeClouds('clouds:\n  c:\n    auth:\n      auth_url:\thttp://k:5000/v3\n      username:\tadmin\n      password: p\n    region_name:\tR1\n');
    expect(resolveCloudConfig({ cloud: 'c' }, env)).toMatchObject({ authUrl: 'http://k:5000/v3', username: 'admin', regionName: 'R1' });
  });

  it('registers the password and secret with the logger', () => {
    const log = new MemoryLogger();
    resolveCloudConfig({ authUrl: 'http://k', username: 'u', password: 'pw-123-secret' }, env, log);
    expect(log.scrub('x pw-123-secret y')).toBe('x **** y');
    const log2 = new MemoryLogger();
    resolveCloudConfig({ authUrl: 'http://k', applicationCredentialId: 'i', applicationCredentialSecret: 'the-secret' }, env, log2);
    expect(log2.scrub('the-secret')).toBe('****');
  });

  it('passes timeout, attempts, retry delay and the token cache directory through', () => {
    const c = resolveCloudConfig({ authUrl: 'http://k', username: 'u', password: 'p', timeoutMs: 1234, attempts: 5, retryDelayMs: 7,
      tokenCacheDir: '/run/x', insecure: true, cacert: '/ca' }, env);
    expect(c).toMatchObject({ timeoutMs: 1234, attempts: 5, retryDelayMs: 7, tokenCacheDir: '/run/x', insecure: true, cacert: '/ca' });
    expect(() => resolveCloudConfig({ authUrl: 'http://k', username: 'u', password: 'p', attempts: 0 }, env)).toThrow(/attempts/);
  });
});
