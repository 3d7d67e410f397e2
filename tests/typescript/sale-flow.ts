// A sale, as a mini-program and a registration office would code it against the types that
// openapi-typescript generates from /docs/openapi.json (written next to this file as api.d.ts
// by tests/api/test_typescript_client.py). `tsc --noEmit` must accept it: a renamed field, a
// missing required term or a wrong type in the document breaks the build.
import type { components, paths } from "./api";

type Schemas = components["schemas"];
type Body<P extends keyof paths, M extends "post" | "put" | "patch"> =
  paths[P][M] extends { requestBody?: { content: { "application/json": infer B } } } ? B : never;
type Answer<P extends keyof paths, M extends "get" | "post" | "put" | "patch", S extends number> =
  paths[P][M] extends { responses: { [K in S]: { content: { "application/json": infer A } } } }
    ? A
    : never;

const base = "http://127.0.0.1:8000";

async function call<T>(method: string, path: string, token: string | null, body?: unknown,
                       headers: Record<string, string> = {}): Promise<T> {
  const response = await fetch(base + path, {
    method,
    headers: {
      "Content-Type": "application/json",
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    const error = (await response.json()) as Schemas["ErrorEnvelope"];
    throw new Error(`${error.error.code}: ${error.error.message}`);
  }
  return (await response.json()) as T;
}

async function login(code: string): Promise<string> {
  const body: Body<"/api/v1/auth/login", "post"> = { provider: "sandbox", code };
  const session = await call<Answer<"/api/v1/auth/login", "post", 200>>(
    "POST", "/api/v1/auth/login", null, body);
  const expires: number = session.expires_in;
  console.log(session.user.real_name_verified, expires);
  return session.access_token;
}

async function bindIdentity(token: string, name: string, idNumber: string): Promise<void> {
  const start: Body<"/api/v1/face-verifications", "post"> = {
    purpose: "bind_identity", consent: true, name, id_number: idNumber,
  };
  const v = await call<Answer<"/api/v1/face-verifications", "post", 201>>(
    "POST", "/api/v1/face-verifications", token, start);
  const done = await call<Answer<"/api/v1/face-verifications/{verification_id}/complete",
                                 "post", 200>>(
    "POST", `/api/v1/face-verifications/${v.id}/complete`, token);
  const status: "pending" | "passed" | "failed" = done.status;
  console.log(status);
}

async function registryToken(clientId: string, clientSecret: string): Promise<string> {
  const body: Schemas["TokenBody"] = { client_id: clientId, client_secret: clientSecret };
  const answer = await call<Answer<"/registry/v1/token", "post", 200>>(
    "POST", "/registry/v1/token", null, body);
  return answer.access_token;
}

async function pushUnit(registry: string, unitNo: string, owner: Schemas["OwnerBody"],
                        certificateNo: string): Promise<void> {
  const unit: Body<"/registry/v1/units/{unit_no}", "put"> = {
    certificate_no: certificateNo, house_no: "XA-0012-03-0502",
    location: { city: "咸宁市", district: "咸安区", community: "温泉花园", building: "3栋",
                room: "502" },
    building_area: 118.36, inner_area: 96.12, structure: 3, planned_use: "住宅",
    owners: [owner], source_version: 1,
  };
  const result = await call<Answer<"/registry/v1/units/{unit_no}", "put", 201>>(
    "PUT", `/registry/v1/units/${unitNo}`, registry, unit);
  const applied: boolean = result.applied;
  console.log(applied);
}

async function sale(seller: string, buyer: string, registry: string, certificateNo: string,
                    sellerParty: Schemas["PartyBody"], buyerParty: Schemas["PartyBody"],
                    signatureImage: string): Promise<void> {
  const check = await call<Answer<"/api/v1/properties/check", "post", 200>>(
    "POST", "/api/v1/properties/check", seller,
    { certificate_no: certificateNo } satisfies Body<"/api/v1/properties/check", "post">);
  if (!check.eligible) {
    throw new Error(check.reasons.map((r) => `${r.code}: ${r.message}`).join("; "));
  }

  const terms: Schemas["Terms"] = {
    price_fen: 128_000_000,
    payment_method: "full",
    payment_schedule: [{ due_date: "2030-03-01", amount_fen: 128_000_000,
                         description: "全款" }],
    delivery_date: "2030-04-01",
    dispute_resolution: { method: "arbitration", institution: "咸宁仲裁委员会" },
    funds_custody: true,
    custody_bank: "中国工商银行咸宁分行",
  };
  const create: Body<"/api/v1/contracts", "post"> = {
    kind: "resale", certificate_no: certificateNo, initiator_role: "seller",
    sellers: [sellerParty], buyers: [buyerParty], terms,
  };
  let contract = await call<Answer<"/api/v1/contracts", "post", 201>>(
    "POST", "/api/v1/contracts", seller, create);
  const buyerSide = contract.parties.find((p) => p.role === "buyer");
  if (!buyerSide) throw new Error("no buyer");

  const invitation = await call<Answer<"/api/v1/contracts/{contract_id}/invitations",
                                       "post", 201>>(
    "POST", `/api/v1/contracts/${contract.id}/invitations`, seller,
    { party_id: buyerSide.party_id } satisfies Body<"/api/v1/contracts/{contract_id}/invitations",
                                                    "post">);
  await call<Schemas["ContractView"]>(
    "POST", `/api/v1/invitations/${invitation.token}/accept`, buyer);

  const edit: Body<"/api/v1/contracts/{contract_id}", "patch"> = {
    terms: { ...terms, supplementary_terms: "家具家电随房屋一并转让。" },
  };
  contract = await call<Answer<"/api/v1/contracts/{contract_id}", "patch", 200>>(
    "PATCH", `/api/v1/contracts/${contract.id}`, seller, edit,
    { "If-Match": `"${contract.version}"` });

  for (const token of [seller, buyer]) {
    const confirm: Body<"/api/v1/contracts/{contract_id}/confirm", "post"> = {
      version: contract.version,
    };
    contract = await call<Schemas["ContractView"]>(
      "POST", `/api/v1/contracts/${contract.id}/confirm`, token, confirm);
  }
  const frozen: Schemas["ContractView"]["status"] = contract.status;
  console.log(frozen, contract.contract_no, contract.verification_url);

  for (const token of [seller, buyer]) {
    const face = await call<Schemas["FaceVerificationView"]>(
      "POST", "/api/v1/face-verifications", token,
      { purpose: "sign", consent: true, contract_id: contract.id });
    await call<Schemas["FaceVerificationView"]>(
      "POST", `/api/v1/face-verifications/${face.id}/complete`, token);
    const signature: Body<"/api/v1/contracts/{contract_id}/signatures", "post"> = {
      face_verification_id: face.id, signature_image: signatureImage,
    };
    contract = await call<Answer<"/api/v1/contracts/{contract_id}/signatures", "post", 201>>(
      "POST", `/api/v1/contracts/${contract.id}/signatures`, token, signature);
  }
  if (contract.status !== "filed" || contract.filing_no === null) throw new Error("not filed");

  const feed = await call<Answer<"/registry/v1/contracts", "get", 200>>(
    "GET", "/registry/v1/contracts?cursor=0&limit=50", registry);
  for (const item of feed.items) {
    const shared = await call<Answer<"/registry/v1/contracts/{filing_no}", "get", 200>>(
      "GET", `/registry/v1/contracts/${item.filing_no}`, registry);
    console.log(shared.contract_no, shared.sellers.length);
  }
  const accepted = await call<Answer<"/registry/v1/contracts/{filing_no}/acceptance", "post",
                                     200>>(
    "POST", `/registry/v1/contracts/${contract.filing_no}/acceptance`, registry,
    { case_no: "XA2030-000123" } satisfies Body<"/registry/v1/contracts/{filing_no}/acceptance",
                                                "post">);
  const status: "registration_accepted" | string = accepted.status;
  console.log(status, feed.next_cursor);
}

// The document's types are strict, not `any`: each of these must be refused by tsc.
// @ts-expect-error version is an integer, not a string
const wrongVersion: Body<"/api/v1/contracts/{contract_id}/confirm", "post"> = { version: "1" };
// @ts-expect-error payment_method is one of full | commercial_loan | provident_fund_loan | combined
const wrongMethod: Schemas["Terms"]["payment_method"] = "cash";
// @ts-expect-error dispute_resolution is required
const missingTerm: Schemas["Terms"] = {
  price_fen: 1, payment_method: "full", delivery_date: "2030-01-01",
  payment_schedule: [{ due_date: "2030-01-01", amount_fen: 1, description: "全款" }],
};
// @ts-expect-error a party's role is seller | buyer | agent
const wrongRole: Schemas["PartyView"]["role"] = "notary";

// `never` would make every use above pass silently: each body and answer type must resolve.
type Resolves<T> = [T] extends [never] ? false : true;
const typesResolve: true[] = [
  true as Resolves<Body<"/api/v1/auth/login", "post">>,
  true as Resolves<Answer<"/api/v1/auth/login", "post", 200>>,
  true as Resolves<Answer<"/api/v1/face-verifications", "post", 201>>,
  true as Resolves<Answer<"/api/v1/face-verifications/{verification_id}/complete", "post", 200>>,
  true as Resolves<Answer<"/registry/v1/token", "post", 200>>,
  true as Resolves<Body<"/registry/v1/units/{unit_no}", "put">>,
  true as Resolves<Answer<"/registry/v1/units/{unit_no}", "put", 201>>,
  true as Resolves<Answer<"/api/v1/properties/check", "post", 200>>,
  true as Resolves<Body<"/api/v1/contracts", "post">>,
  true as Resolves<Answer<"/api/v1/contracts", "post", 201>>,
  true as Resolves<Answer<"/api/v1/contracts/{contract_id}/invitations", "post", 201>>,
  true as Resolves<Body<"/api/v1/contracts/{contract_id}", "patch">>,
  true as Resolves<Answer<"/api/v1/contracts/{contract_id}", "patch", 200>>,
  true as Resolves<Body<"/api/v1/contracts/{contract_id}/confirm", "post">>,
  true as Resolves<Body<"/api/v1/contracts/{contract_id}/signatures", "post">>,
  true as Resolves<Answer<"/api/v1/contracts/{contract_id}/signatures", "post", 201>>,
  true as Resolves<Answer<"/registry/v1/contracts", "get", 200>>,
  true as Resolves<Answer<"/registry/v1/contracts/{filing_no}", "get", 200>>,
  true as Resolves<Answer<"/registry/v1/contracts/{filing_no}/acceptance", "post", 200>>,
];

export { bindIdentity, typesResolve, login, pushUnit, registryToken, sale, wrongMethod, wrongRole,
         wrongVersion, missingTerm };
