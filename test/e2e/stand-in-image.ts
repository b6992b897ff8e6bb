/**
 * A tiny image made on the spot, because nothing may be pulled from the internet: one layer with
 * one file, written as an OCI image layout that skopeo can push (`oci:<dir>:<tag>`).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export interface StandInImage {
  /** `oci:<dir>:<tag>`, for skopeo. */
  reference: string;
  /** The image ID docker and podman report: the config's digest. */
  configDigest: string;
  manifestDigest: string;
  /** The layer as a plain tarball, for `docker import`. */
  layerTar: string;
}

const sha256 = (data: Buffer | string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

export function writeStandInImage(dir: string, tag: string, content: string): StandInImage {
  const rootfs = join(dir, 'rootfs');
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(rootfs, { recursive: true });
  mkdirSync(blobs, { recursive: true });
  writeFileSync(join(rootfs, 'stand-in.txt'), content);
  // prettier-ignore
  const tar = execFileSync('tar', [
    '-C', rootfs, '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-cf', '-', 'stand-in.txt',
  ]);
  const layerTar = join(dir, 'layer.tar');
  writeFileSync(layerTar, tar);
  const layer = gzipSync(tar);
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: { Cmd: ['/stand-in.txt'] },
    rootfs: { type: 'layers', diff_ids: [sha256(tar)] },
  });
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: sha256(config),
      size: Buffer.byteLength(config),
    },
    layers: [
      { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(layer), size: layer.length },
    ],
  });
  for (const blob of [layer, config, manifest]) {
    writeFileSync(join(blobs, sha256(blob).slice('sha256:'.length)), blob);
  }
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: sha256(manifest),
          size: Buffer.byteLength(manifest),
          annotations: { 'org.opencontainers.image.ref.name': tag },
        },
      ],
    }),
  );
  return {
    reference: `oci:${dir}:${tag}`,
    configDigest: sha256(config),
    manifestDigest: sha256(manifest),
    layerTar,
  };
}
