export * from '../../scripts/lib/portal-client';
