// The resource types the scripts take, declared the way `wmill resource-type generate-namespace` declares
// them in a workspace's rt.d.ts. Windmill reads a parameter typed `RT.Tradeflow` as a resource of type
// `tradeflow` (tradeflow.resource-type.yaml) and `RT.Postgresql` as its built-in `postgresql` type; a type
// declared inside the script instead would be inlined as a plain object and lose the resource picker.

declare namespace RT {
  /** A tradeflow deployment: tradeflow.resource-type.yaml. */
  type Tradeflow = {
    /** e.g. http://tradeflow:8080 */
    base_url: string;
    /** sent as `Authorization: Bearer …` */
    api_key?: string;
  };

  /** Windmill's built-in postgresql resource type. */
  type Postgresql = {
    host: string;
    port?: number;
    user: string;
    password?: string;
    dbname: string;
    sslmode?: 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';
    root_certificate_pem?: string;
  };
}
