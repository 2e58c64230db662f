/**
 * The layers of openstack-ha-agents, each importing only the ones below it (`npm run depcheck`, part of npm test):
 *
 *   bin/                      entry point, dispatch
 *   agents/                   one module per agent; agents/index.ts is the registry
 *   lib/instance-ha, lib/daemon, lib/guest   (lib/guest: what the guest-cluster agents share)
 *   lib/openstack, lib/remote, lib/runtime   (the OpenStack client, used through lib/openstack/index.ts; SSH; the OCF and
 *                                            fence runtimes)
 *   lib/pacemaker, lib/core
 *
 * Modules of one layer don't import each other's directories (instance-ha, daemon and guest; openstack, remote and runtime),
 * except that lib/pacemaker may use lib/core.
 */
const LAYER_3 = '^lib/(instance-ha|daemon|guest)/';
const LAYER_2 = '^lib/(openstack|remote|runtime)/';

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'no import cycles (type-only imports included)',
      from: {}, to: { circular: true } },
    { name: 'no-unresolvable', severity: 'error', comment: 'every import resolves',
      from: {}, to: { couldNotResolve: true } },
    { name: 'lib-not-agents-or-bin', severity: 'error', comment: 'lib/ never imports agents/ or bin/',
      from: { path: '^lib/' }, to: { path: '^(agents|bin)/' } },
    { name: 'agents-not-bin', severity: 'error', comment: 'agents never import the entry point',
      from: { path: '^agents/' }, to: { path: '^bin/' } },
    { name: 'agents-not-agents', severity: 'error',
      comment: 'an agent never imports another agent (nor the registry); only agents/index.ts, the registry, imports agents',
      from: { path: '^agents/', pathNot: '^agents/index\\.ts$' }, to: { path: '^agents/' } },
    { name: 'layer-3-not-up', severity: 'error', comment: 'lib/instance-ha imports neither lib/daemon, lib/guest nor anything above',
      from: { path: '^lib/instance-ha/' }, to: { path: '^(bin|agents)/|^lib/(daemon|guest)/' } },
    { name: 'layer-3-not-up-daemon', severity: 'error', comment: 'lib/daemon imports neither lib/instance-ha, lib/guest nor anything above',
      from: { path: '^lib/daemon/' }, to: { path: '^(bin|agents)/|^lib/(instance-ha|guest)/' } },
    { name: 'layer-3-not-up-guest', severity: 'error', comment: 'lib/guest imports neither lib/instance-ha, lib/daemon nor anything above',
      from: { path: '^lib/guest/' }, to: { path: '^(bin|agents)/|^lib/(instance-ha|daemon)/' } },
    { name: 'layer-2-not-up', severity: 'error', comment: 'lib/openstack, lib/remote and lib/runtime import nothing above them',
      from: { path: LAYER_2 }, to: { path: `^(bin|agents)/|${LAYER_3}` } },
    { name: 'openstack-not-runtime', severity: 'error', comment: 'the OpenStack client knows nothing of the agent runtimes (nor of SSH)',
      from: { path: '^lib/openstack/' }, to: { path: '^lib/(runtime|remote)/' } },
    { name: 'remote-not-runtime', severity: 'error', comment: 'the SSH client knows nothing of the agent runtimes or OpenStack',
      from: { path: '^lib/remote/' }, to: { path: '^lib/(runtime|openstack)/' } },
    { name: 'runtime-not-openstack', severity: 'error', comment: 'the agent runtimes know nothing of OpenStack or SSH',
      from: { path: '^lib/runtime/' }, to: { path: '^lib/(openstack|remote)/' } },
    { name: 'layer-1-not-up', severity: 'error', comment: 'lib/pacemaker and lib/core import nothing above them',
      from: { path: '^lib/(pacemaker|core)/' }, to: { path: `^(bin|agents)/|${LAYER_3}|${LAYER_2}` } },
    { name: 'core-not-pacemaker', severity: 'error', comment: 'lib/core is the bottom: it imports no other lib directory',
      from: { path: '^lib/core/' }, to: { path: '^lib/', pathNot: '^lib/core/' } },
    { name: 'openstack-through-index', severity: 'error',
      comment: 'outside lib/openstack, the OpenStack client is imported through lib/openstack/index.ts only',
      from: { path: '^(bin|agents|lib)/', pathNot: '^lib/openstack/' }, to: { path: '^lib/openstack/', pathNot: '^lib/openstack/index\\.ts$' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
