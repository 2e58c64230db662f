/** Capture what a runtime writes to stdout/stderr while running fn. */
import { vi } from 'vitest';

export async function capture<T>(fn: () => Promise<T>): Promise<{ result: T; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => { stdout += String(chunk); return true; });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => { stderr += String(chunk); return true; });
  try {
    const result = await fn();
    return { result, stdout, stderr };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}
