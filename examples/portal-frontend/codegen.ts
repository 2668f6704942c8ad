// GraphQL Code Generator: the operations in src/operations/, checked against the server's
// schema.graphql and compiled into typed documents in src/gql/ (generated, not committed).
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "../../schema.graphql",
  documents: ["src/operations/*.graphql"],
  ignoreNoDocuments: false,
  generates: {
    "src/gql/": {
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: {
        // Documents as strings with their types attached: fetch sends them as they are, so the
        // browser needs no GraphQL library at run time.
        documentMode: "string",
        enumsAsTypes: true,
        useTypeImports: true,
        // Every custom scalar must be mapped here; a new one fails the generation.
        strictScalars: true,
        scalars: {
          DateTime: "string",
          // Strawberry's Decimal: exact decimals (VAT rates such as "19" or "5.5") as strings.
          Decimal: "string",
          JSON: "unknown",
        },
      },
    },
  },
};

export default config;
