import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';

/**
 * client-node's CoreV1Api for a resolved config. Commands import this module rather than
 * `await import('@kubernetes/client-node')`: a named import lets the bundle leave out the API
 * groups never called (two thirds of client-node's 13 MB), a whole-module import cannot.
 */
export function coreV1Api(kubeConfig: KubeConfig): CoreV1Api {
  return kubeConfig.makeApiClient(CoreV1Api);
}
