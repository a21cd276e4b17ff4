/**
 * Numeric version folders of a model (TensorFlow Serving's `<base>/<name>/<version>/` layout) and their all-or-nothing
 * creation: an import writes into a hidden staging folder next to the target (same file system), which is renamed
 * into place only once every file is written and checked. Neither the service nor TensorFlow Serving looks at
 * non-numeric folders, so a staging folder is never served, and a failed import removes it.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { listVersions } from '../../src/model/model-bundle.js';

/** A version as TensorFlow Serving numbers them: a non-negative integer without leading zeros. */
const VERSION_PATTERN = /^(0|[1-9]\d{0,17})$/;

/** `requested`, checked, or the highest existing version + 1 (1 when there is none). */
export function chooseVersion(modelDir: string, requested?: string): string {
  if (requested !== undefined) {
    if (!VERSION_PATTERN.test(requested)) {
      throw new Error(
        `--version ${JSON.stringify(requested)}: must be a non-negative integer (TensorFlow Serving versions)`,
      );
    }
    return requested;
  }
  const versions = existsSync(modelDir) ? listVersions(modelDir) : [];
  const highest = versions.at(-1);
  return highest === undefined ? '1' : String(Number(highest) + 1);
}

/** A staging folder that becomes `<modelDir>/<version>` on `publish`, or disappears on `discard`. */
export class StagedVersion {
  private constructor(
    readonly modelDir: string,
    readonly version: string,
    /** Where the files are written until `publish`. */
    readonly dir: string,
    /** The outermost folder `create` made for `modelDir` (the models folder too when it did not exist). */
    private readonly createdFrom: string | undefined,
  ) {}

  get target(): string {
    return join(this.modelDir, this.version);
  }

  /** Creates the staging folder; refuses an existing version unless `force`. */
  static create(modelDir: string, version: string, force: boolean): StagedVersion {
    StagedVersion.checkTarget(join(modelDir, version), force);
    const createdFrom = mkdirSync(modelDir, { recursive: true });
    const dir = mkdtempSync(join(modelDir, `.import-${version}-`));
    // mkdtemp makes it private (0700); a version folder must be readable by TensorFlow Serving's user too.
    chmodSync(dir, 0o755);
    return new StagedVersion(modelDir, version, dir, createdFrom);
  }

  private static checkTarget(target: string, force: boolean): void {
    if (existsSync(target) && !force) {
      throw new Error(`${target} already exists: pass --force to replace it, or --version N for another version`);
    }
  }

  /**
   * Moves the staging folder into place. A replaced version is first moved aside and removed only after the new one
   * is in place (put back if that fails).
   */
  publish(force: boolean): string {
    const target = this.target;
    StagedVersion.checkTarget(target, force);
    if (!existsSync(target)) {
      renameSync(this.dir, target);
      return target;
    }
    const aside = `${this.dir}.replaced`;
    renameSync(target, aside);
    try {
      renameSync(this.dir, target);
    } catch (error) {
      renameSync(aside, target);
      throw error;
    }
    rmSync(aside, { recursive: true, force: true });
    return target;
  }

  /** Removes the staging folder, and the folders `create` made if they are left empty. */
  discard(): void {
    rmSync(this.dir, { recursive: true, force: true });
    if (this.createdFrom === undefined) {
      return;
    }
    for (let dir = this.modelDir; dir.startsWith(this.createdFrom); dir = dirname(dir)) {
      if (!existsSync(dir) || readdirSync(dir).length > 0) {
        return;
      }
      rmdirSync(dir);
    }
  }
}
