/**
 * Image names inside archives: the index.json annotations that name an
 * image, and reading names back from annotations or `manifest.json`
 * `RepoTags`.
 *
 * Written the way containerd and Docker 25+ write them: the full canonical
 * name in `io.containerd.image.name` (`docker.io/library/busybox:latest`),
 * and only the tag in `org.opencontainers.image.ref.name` (`latest`), which
 * the OCI image-layout spec defines as the reference *within* the layout
 * (so `umoci unpack --image DIR:latest` finds it).
 */
import { BuildError } from "../diagnostics/build-error.js";
import type { Digest } from "../oci/digest.js";
import { parseReference, withDefaultTag, type ImageReference } from "../registry/reference.js";

/** OCI: the reference of a manifest within an image layout. */
export const ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name";
/** containerd (and Docker 25+): the full image name of an index.json entry. */
export const ANNOTATION_IMAGE_NAME = "io.containerd.image.name";

/** The index.json annotations naming an image `name`. */
export function nameAnnotations(name: ImageReference): Record<string, string> {
  const annotations: Record<string, string> = { [ANNOTATION_IMAGE_NAME]: name.toString() };
  if (name.tag !== undefined) annotations[ANNOTATION_REF_NAME] = name.tag;
  return annotations;
}

/**
 * The name to record a loaded image under: a bare repository gets `latest`;
 * a name with tag and digest keeps the tag (after checking the digest); a
 * digest name must carry the manifest's own digest.
 *
 * @throws BuildError MANIFEST_INVALID when the name's digest is another manifest's.
 */
export function recordableName(name: ImageReference, manifestDigest: Digest): ImageReference {
  if (name.digest !== undefined && name.digest !== manifestDigest) {
    throw new BuildError("MANIFEST_INVALID", `the archive names manifest ${manifestDigest} "${name.familiar()}", whose digest differs`);
  }
  if (name.tag !== undefined && name.digest !== undefined) return parseReference(`${name.name}:${name.tag}`);
  return withDefaultTag(name);
}

/**
 * The image name an index.json entry's annotations give, if any:
 * `io.containerd.image.name`, else `org.opencontainers.image.ref.name` when
 * it is a full reference (`busybox:1.36`, `example.com/app`). A bare
 * `ref.name` such as `latest` or `v1` is only a tag, which names no
 * repository, and gives nothing.
 *
 * @throws BuildError MANIFEST_INVALID for an annotation that is no valid reference.
 */
export function nameFromAnnotations(annotations: Readonly<Record<string, string>> | undefined): ImageReference | undefined {
  if (annotations === undefined) return undefined;
  const full = annotations[ANNOTATION_IMAGE_NAME];
  const refName = annotations[ANNOTATION_REF_NAME];
  const text = full !== undefined && full !== "" ? full : refName !== undefined && /[:/@]/.test(refName) ? refName : undefined;
  if (text === undefined) return undefined;
  try {
    return parseReference(text);
  } catch (err) {
    throw new BuildError("MANIFEST_INVALID", `the archive's index.json names an image ${JSON.stringify(text)}, which is not a valid reference`, {
      cause: err,
    });
  }
}

/**
 * Parses a `RepoTags` entry of a Docker `manifest.json` (`busybox:latest`).
 *
 * @throws BuildError MANIFEST_INVALID when it is not a valid reference.
 */
export function nameFromRepoTag(tag: string): ImageReference {
  try {
    return parseReference(tag);
  } catch (err) {
    throw new BuildError("MANIFEST_INVALID", `the archive's manifest.json names an image ${JSON.stringify(tag)}, which is not a valid reference`, {
      cause: err,
    });
  }
}
