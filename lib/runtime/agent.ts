/** What the multi-call binary (bin/main.ts) knows of an agent: the registry (agents/index.ts) maps names to these. */
export interface AgentEntry {
  kind: 'ocf' | 'fence';
  summary: string;
  /** where the installer links it: OCF provider directory name or sbin */
  provider?: string;
  run(args: string[]): Promise<number>;
}
