export * from '../../scripts/lib/receivers';
